import { join, resolve } from 'node:path';

/** Where `run --local` keeps its state unless `--state DIR` says otherwise (relative to the cwd). */
export const DEFAULT_STATE_DIR = '.soc2-evidence';

/** The state folder's layout; `verify <state>/evidence-bucket` checks everything the runs wrote. */
export const STATE_LAYOUT = {
  /** The evidence bucket in `aws s3 sync s3://<bucket>/ <dir>` layout: `evidence/…`, `checkpoints/…`. */
  bucket: 'evidence-bucket',
  /** The results table (dynalite's LevelDB store): verdicts, attempts, chain heads, the outbox. */
  results: 'results-table',
  /** Customer inputs the controls read from S3 in AWS: `<inputs>/<bucket>/<key>`. */
  inputs: 'inputs',
  /** The P-256 key that signs manifests and checkpoints (KMS in AWS); its public half is published. */
  signingKey: 'signing-key.pem',
  /** Owners' notifications, one JSON object per line (SNS in AWS). */
  notifications: 'notifications.jsonl',
  /** Temporary files of write-once writes, hard-linked into the bucket folder when complete. */
  scratch: 'tmp',
  lock: 'lock',
  readme: 'README.txt',
} as const;

/** The evidence bucket folder of a state folder: what `verify` and `export --local` read. */
export function stateBucketDir(stateDir: string = DEFAULT_STATE_DIR): string {
  return resolve(join(stateDir, STATE_LAYOUT.bucket));
}
