import { CADENCES, type Cadence } from '../shared/period.ts';
import { EVIDENCE_PREFIX } from './evidence-recorder.ts';

/**
 * Where everything lives in the evidence bucket. Every key sits under `evidence/` so one
 * `aws s3 sync s3://<bucket>/evidence/` brings artifacts, manifests, signatures and public keys:
 *
 * ```
 * evidence/_public-keys/<fingerprint>.pem                       public half of each signing key
 * evidence/<control>/<cadence>/<period>/<runId>/result.json     the run's evidence document
 * evidence/<control>/<cadence>/<period>/<runId>/manifest.json   what the run wrote, chained, signed
 * evidence/<control>/<cadence>/<period>/<runId>/manifest.sig    base64 DER ECDSA of manifest.json
 * evidence/<control>/<cadence>/<period>/<runId>/population-<name>.jsonl  a population, one item a line
 * ```
 * Control ids are slugs (never start with `_`), so `_public-keys` cannot collide with a control.
 */
export const PUBLIC_KEYS_PREFIX = `${EVIDENCE_PREFIX}_public-keys/`;
export const MANIFEST_FILE = 'manifest.json';
export const SIGNATURE_FILE = 'manifest.sig';
export const RESULT_FILE = 'result.json';
/** JSON Lines: one canonical JSON object per line, each ending in `\n`. */
export const POPULATION_CONTENT_TYPE = 'application/x-ndjson';
const POPULATION_FILE = /^population-([a-z0-9]+(?:-[a-z0-9]+)*)\.jsonl$/;

/** Where a run's population `name` is written: a file in the run's own folder. */
export function populationKey(runPrefix: string, name: string): string {
  return `${runPrefix}population-${name}.jsonl`;
}

/** The population name of a run-folder file name, or undefined when it is not a population file. */
export function populationNameOf(file: string): string | undefined {
  return POPULATION_FILE.exec(file)?.[1];
}
/** Where `export --presign` uploads archives; outside `evidence/`, so never mistaken for evidence. */
export const EXPORTS_PREFIX = 'exports/';

export function publicKeyKey(fingerprint: string): string {
  return `${PUBLIC_KEYS_PREFIX}${fingerprint}.pem`;
}

export function signatureKeyFor(manifestKey: string): string {
  return manifestKey.slice(0, manifestKey.length - MANIFEST_FILE.length) + SIGNATURE_FILE;
}

export type EvidenceKey =
  | {
      readonly kind: 'run-file';
      readonly controlId: string;
      readonly cadence: Cadence;
      readonly periodKey: string;
      readonly runId: string;
      /** File name inside the run folder: `manifest.json`, `manifest.sig`, `result.json`, ... */
      readonly file: string;
      /** `evidence/<control>/<cadence>/<period>/<runId>/` */
      readonly runPrefix: string;
    }
  | { readonly kind: 'public-key'; readonly fingerprint: string };

const FINGERPRINT = /^[0-9a-f]{64}$/;

/** Reads a bucket key back into its parts; `undefined` for anything outside the layout. */
export function parseEvidenceKey(key: string): EvidenceKey | undefined {
  if (!key.startsWith(EVIDENCE_PREFIX)) return undefined;
  const parts = key.slice(EVIDENCE_PREFIX.length).split('/');
  if (parts.length === 2 && `${EVIDENCE_PREFIX}${parts[0]}/` === PUBLIC_KEYS_PREFIX) {
    const name = parts[1] ?? '';
    const fingerprint = name.endsWith('.pem') ? name.slice(0, -4) : '';
    return FINGERPRINT.test(fingerprint) ? { kind: 'public-key', fingerprint } : undefined;
  }
  if (parts.length !== 5) return undefined;
  const [controlId, cadence, periodKey, runId, file] = parts as [string, string, string, string, string];
  if (!controlId || !periodKey || !runId || !file) return undefined;
  if (!(CADENCES as readonly string[]).includes(cadence)) return undefined;
  return {
    kind: 'run-file',
    controlId,
    cadence: cadence as Cadence,
    periodKey,
    runId,
    file,
    runPrefix: `${EVIDENCE_PREFIX}${controlId}/${cadence}/${periodKey}/${runId}/`,
  };
}
