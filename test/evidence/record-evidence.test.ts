import { describe, expect, it } from 'vitest';
import { makeMemoryChainHeads } from '../../lib/evidence/chain-head-store.ts';
import type { EvidenceObjectStore } from '../../lib/evidence/evidence-object-store.ts';
import { makeLocalSigner } from '../../lib/evidence/local-signer.ts';
import { makeEvidenceRecorder, makeMemoryObjectStore } from '../../lib/evidence/record-evidence.ts';
import { runResult } from '../verify/evidence-fixture.ts';

/** A store that counts writes per key and can refuse manifest writes (a crash in step 5). */
function countingStore() {
  const inner = makeMemoryObjectStore();
  const writes = new Map<string, number>();
  let refuseManifests = false;
  const store: EvidenceObjectStore = {
    ...inner,
    async putOnce(key, body, contentType) {
      if (refuseManifests && key.endsWith('manifest.json')) throw new Error('crashed before the manifest');
      writes.set(key, (writes.get(key) ?? 0) + 1);
      return inner.putOnce(key, body, contentType);
    },
  };
  return { store, inner, writes, refuse: (value: boolean) => (refuseManifests = value) };
}

const run = (periodKey: string) => runResult({ controlId: 'audit-log', cadence: 'monthly', periodKey });

describe('the evidence recorder seals chain heads', () => {
  it('does not write a manifest it sealed itself a second time on the next run', async () => {
    const { store, writes } = countingStore();
    const recorder = makeEvidenceRecorder({
      store,
      signer: makeLocalSigner(),
      chain: makeMemoryChainHeads(),
    });
    const first = await recorder.record(run('2026-01'));
    await recorder.record(run('2026-02'));
    expect(writes.get(first.manifestKey)).toBe(1);
  });

  it('seals a head whose manifest a failed run left unwritten, on the same recorder and on another', async () => {
    const { store, inner, refuse } = countingStore();
    const chain = makeMemoryChainHeads();
    const recorder = makeEvidenceRecorder({ store, signer: makeLocalSigner(), chain });
    refuse(true);
    await expect(recorder.record(run('2026-01'))).rejects.toThrow('crashed before the manifest');
    refuse(false);
    const head = await chain.read('audit-log', 'scheduled');
    if (!head) throw new Error('the chain head did not advance');
    expect(inner.objects.has(head.manifestKey)).toBe(false);
    await recorder.record(run('2026-02'));
    expect(inner.objects.has(head.manifestKey)).toBe(true);

    refuse(true);
    await expect(recorder.record(run('2026-03'))).rejects.toThrow('crashed before the manifest');
    refuse(false);
    const unsealed = await chain.read('audit-log', 'scheduled');
    const other = makeEvidenceRecorder({ store, signer: makeLocalSigner(), chain });
    await other.record(run('2026-04'));
    expect(unsealed && inner.objects.has(unsealed.manifestKey)).toBe(true);
  });
});
