import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import * as z from 'zod';
import { TOOL_VERSION } from '../shared/version.ts';
import {
  drawSample,
  SAMPLE_METHOD,
  SampleProblemError,
  type SampleRequest,
  type SampleResult,
} from './sample.ts';
import { FREQUENCIES } from './sample-size.ts';
import { type EvidenceSource, folderEvidenceSource } from './sample-source.ts';

export const SAMPLE_FILE = 'sample.json';
export const SAMPLE_ITEMS_FILE = 'items.jsonl';
const SAMPLE_KIND = 'soc2-evidence/sample';

const sizeRowSchema = z.strictObject({
  upTo: z.number().int().optional(),
  size: z.union([z.literal('all'), z.number().int()]).optional(),
  percent: z.number().optional(),
});

/** `sample.json`: what was drawn, how, from what; enough to draw it again and compare. */
export const sampleFileSchema = z.strictObject({
  kind: z.literal(SAMPLE_KIND),
  schemaVersion: z.literal(1),
  tool: z.strictObject({ name: z.string(), version: z.string() }),
  control: z.string().min(1),
  population: z.string().min(1),
  range: z.strictObject({ from: z.string(), to: z.string() }),
  timeZone: z.string(),
  seed: z.string().min(1),
  method: z.strictObject({ ordering: z.string(), key: z.string(), message: z.string(), take: z.string() }),
  size: z.strictObject({
    n: z.number().int().min(0),
    rule: z.string(),
    requested: z.number().int().min(1).nullable(),
    table: z.strictObject({
      populationSizes: z.array(sizeRowSchema),
      byFrequency: z.strictObject(
        Object.fromEntries(FREQUENCIES.map((f) => [f, z.number().int()])) as Record<
          (typeof FREQUENCIES)[number],
          z.ZodNumber
        >,
      ),
    }),
  }),
  populationSize: z.number().int().min(0),
  populationSha256: z.string(),
  sources: z.array(
    z.strictObject({
      periodKey: z.string(),
      runId: z.string(),
      manifestKey: z.string(),
      manifestSha256: z.string(),
      keyFingerprint: z.string(),
      populationKey: z.string().optional(),
      populationSha256: z.string(),
      rows: z.number().int(),
    }),
  ),
  selected: z.array(
    z.strictObject({ id: z.string(), periodKey: z.string(), itemId: z.string(), hmac: z.string() }),
  ),
});
export type SampleFile = z.output<typeof sampleFileSchema>;

function sampleFile(result: SampleResult): SampleFile {
  const { request } = result;
  return {
    kind: SAMPLE_KIND,
    schemaVersion: 1,
    tool: { name: 'soc2-evidence', version: TOOL_VERSION },
    control: request.controlId,
    population: request.population,
    range: { from: request.from, to: request.to },
    timeZone: result.timeZone,
    seed: request.seed,
    method: { ...SAMPLE_METHOD },
    size: {
      n: result.size.n,
      rule: result.size.rule,
      requested: request.size ?? null,
      table: {
        populationSizes: request.table.populationSizes.map((row) => ({ ...row })),
        byFrequency: { ...request.table.byFrequency },
      },
    },
    populationSize: result.populationSize,
    populationSha256: result.populationSha256,
    sources: result.sources.map((source) => ({ ...source })),
    selected: result.selected.map((item) => ({ ...item })),
  };
}

/**
 * Draws the sample and writes DIR: `sample.json`, `items.jsonl` (the selected items, byte for byte
 * as in the signed population), and under `evidence/` every file it rests on (manifests,
 * signatures, public keys, results, and the populations, copied while they are streamed), so
 * `sample --check DIR` needs nothing else.
 */
export async function writeSample(
  source: EvidenceSource,
  request: SampleRequest,
  dir: string,
): Promise<{ readonly result: SampleResult; readonly file: SampleFile }> {
  await mkdir(dir, { recursive: true });
  const copies = new Map<string, WriteStream>();
  const copyOf = async (key: string) => {
    let stream = copies.get(key);
    if (!stream) {
      await mkdir(dirname(join(dir, key)), { recursive: true });
      stream = createWriteStream(join(dir, key));
      copies.set(key, stream);
    }
    return stream;
  };
  let result: SampleResult;
  try {
    result = await drawSample(source, request, {
      onPopulationChunk: async (key, chunk) => {
        const stream = await copyOf(key);
        if (!stream.write(chunk)) await new Promise<void>((resolve) => stream.once('drain', () => resolve()));
      },
    });
  } finally {
    await Promise.all(
      [...copies.values()].map((stream) => new Promise((resolve) => stream.end(() => resolve(undefined)))),
    );
  }
  for (const key of result.evidenceKeys) {
    if (copies.has(key)) continue;
    await mkdir(dirname(join(dir, key)), { recursive: true });
    await writeFile(join(dir, key), await source.getBytes(key));
  }
  const file = sampleFile(result);
  await writeFile(join(dir, SAMPLE_ITEMS_FILE), result.lines.join(''));
  await writeFile(join(dir, SAMPLE_FILE), `${JSON.stringify(file, null, 2)}\n`);
  return { result, file };
}

export interface SampleCheck {
  readonly ok: boolean;
  readonly file?: SampleFile;
  readonly problems: readonly { readonly code: string; readonly message: string }[];
}

/**
 * `sample --check DIR`: draws the sample again from the seed and the signed populations in DIR
 * (signatures and population hashes checked on the way) and compares it with what DIR claims.
 */
export async function checkSample(
  dir: string,
  options: { trustedKeys?: readonly string[] } = {},
): Promise<SampleCheck> {
  let file: SampleFile;
  try {
    const parsed = sampleFileSchema.safeParse(JSON.parse(await readFile(join(dir, SAMPLE_FILE), 'utf8')));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Error(issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid');
    }
    file = parsed.data;
  } catch (error) {
    return {
      ok: false,
      problems: [
        { code: 'sample-unreadable', message: `${join(dir, SAMPLE_FILE)}: ${(error as Error).message}` },
      ],
    };
  }
  const request: SampleRequest = {
    controlId: file.control,
    population: file.population,
    from: file.range.from,
    to: file.range.to,
    seed: file.seed,
    ...(file.size.requested !== null ? { size: file.size.requested } : {}),
    table: file.size.table,
    ...(options.trustedKeys ? { trustedKeys: options.trustedKeys } : {}),
  };
  let again: SampleResult;
  try {
    again = await drawSample(await folderEvidenceSource(dir), request);
  } catch (error) {
    if (error instanceof SampleProblemError)
      return { ok: false, file, problems: [{ code: error.code, message: error.message }] };
    throw error;
  }
  const problems: { code: string; message: string }[] = [];
  const recomputed = sampleFile(again);
  const sourcesOf = (f: SampleFile) => JSON.stringify(f.sources);
  if (sourcesOf(recomputed) !== sourcesOf(file) || recomputed.populationSha256 !== file.populationSha256)
    problems.push({
      code: 'sources-changed',
      message: `sample.json names runs or population hashes (${file.populationSha256.slice(0, 16)}…) other than the signed evidence in ${dir} (${recomputed.populationSha256.slice(0, 16)}…)`,
    });
  if (recomputed.size.n !== file.size.n || recomputed.populationSize !== file.populationSize)
    problems.push({
      code: 'size-altered',
      message: `sample.json says ${file.size.n} of ${file.populationSize}; its own table gives ${recomputed.size.n} of ${recomputed.populationSize} (${recomputed.size.rule})`,
    });
  const ids = (f: SampleFile) => f.selected.map((item) => `${item.id}\u0000${item.hmac}`).join('\n');
  if (ids(recomputed) !== ids(file)) {
    const claimed = new Set(file.selected.map((item) => item.id));
    const expected = new Set(recomputed.selected.map((item) => item.id));
    const added = [...claimed].filter((id) => !expected.has(id));
    const dropped = [...expected].filter((id) => !claimed.has(id));
    problems.push({
      code: 'selection-altered',
      message: `the selection in sample.json is not the one seed "${file.seed}" gives${
        added.length > 0 ? `: not drawn ${added.slice(0, 5).join(', ')}` : ''
      }${dropped.length > 0 ? `; drawn but missing ${dropped.slice(0, 5).join(', ')}` : ''}${
        added.length === 0 && dropped.length === 0 ? ': same items, other order or digests' : ''
      }`,
    });
  }
  const items = await readFile(join(dir, SAMPLE_ITEMS_FILE), 'utf8').catch(() => undefined);
  if (items !== again.lines.join(''))
    problems.push({
      code: 'items-altered',
      message:
        items === undefined
          ? `${SAMPLE_ITEMS_FILE} is missing`
          : `${SAMPLE_ITEMS_FILE} differs from the selected items of the signed population`,
    });
  return { ok: problems.length === 0, file, problems };
}
