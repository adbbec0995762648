import type { DateRange } from '../evidence/coverage.ts';

export interface VerifyGuideInput {
  readonly range: DateRange;
  readonly exportedAt: string;
  readonly bucket: string;
  /** The soc2-evidence version that exported the archive, for the one-command install line. */
  readonly toolVersion: string;
  readonly keyFingerprints: readonly string[];
}

/** VERIFY.md: how an auditor checks the archive, with the tool or by hand with openssl and sha256sum. */
export function renderVerifyGuide(input: VerifyGuideInput): string {
  const keys = input.keyFingerprints.length
    ? input.keyFingerprints.map((fingerprint) => `- \`${fingerprint}\``).join('\n')
    : '- (no manifests in range)';
  return `# Verifying this evidence archive

Exported ${input.exportedAt} from \`${input.bucket}\`, for periods ending ${input.range.from ?? '(start)'} to ${input.range.to ?? '(export date)'}.

Every control run wrote its evidence, then a **manifest** listing each evidence file's key, size and
SHA-256, the control, period and verdict, and the hash and signature of the control's previous
manifest (a hash chain per control, with a sequence number). Each manifest is signed with an AWS KMS
key (ECDSA P-256, SHA-256) that the runner can use but not read; the public half is in
\`evidence/_public-keys/<fingerprint>.pem\`. A manifest is written for every run, failed or errored
runs included, so a period without one is provably missing. The model is CloudTrail log-file integrity
validation.

## 1. Pin the signing key

This archive was signed by:

${keys}

A fingerprint is the SHA-256 of the key's DER SubjectPublicKeyInfo. Confirm it with the account owner,
independently of this archive:

\`\`\`sh
aws kms get-public-key --key-id <key-id> --query PublicKey --output text | base64 -d | sha256sum
\`\`\`

## 2. Run the verifier

One command, with only Node.js 20.12 or later installed (the published package bundles the verifier;
\`npm_config_omit=optional\` skips the embedded PostgreSQL and AWS emulators that only the local
demo needs, so the download is about 2 MB):

\`\`\`sh
npm_config_omit=optional npx --yes --package soc2-evidence@${input.toolVersion} -- \\
  soc2-evidence verify evidence-export.zip --trusted-key <fingerprint>
\`\`\`

Use this version (the one that exported the archive) or a later one. Already installed, it is
\`soc2-evidence verify evidence-export.zip --trusted-key <fingerprint>\`.

It checks, offline: every evidence file against the SHA-256 in its manifest; every manifest's
signature; each control's chain (no manifest missing, replaced, re-signed, moved or reordered);
a manifest for every period that was due in the range; and that nothing is present that no manifest
lists. It prints a summary per control and exits 0 only when everything holds; otherwise it names
each problem (file, control, period, what is wrong). The same command verifies a folder pulled
straight from the bucket (\`aws s3 sync s3://${input.bucket}/evidence/ ./evidence\`).

The range and export time come from \`export.json\`, which is not signed: check that they match what
you asked for, or pass \`--from\`, \`--to\` and \`--as-of\` yourself.

## 3. Or check by hand

\`\`\`sh
# the key file is the key its name says
openssl pkey -pubin -in evidence/_public-keys/<fingerprint>.pem -outform DER | sha256sum
# a manifest's signature (manifest.sig is base64 DER ECDSA over the exact bytes of manifest.json)
base64 -d evidence/<control>/<cadence>/<period>/<run>/manifest.sig > /tmp/manifest.sig.der
openssl dgst -sha256 -verify evidence/_public-keys/<fingerprint>.pem -signature /tmp/manifest.sig.der \\
  evidence/<control>/<cadence>/<period>/<run>/manifest.json
# each artifact's hash equals its "sha256" in the manifest
sha256sum evidence/<control>/<cadence>/<period>/<run>/result.json
# the chain: "chain.previous.sha256" equals the previous manifest's sha256sum, and
# "chain.previous.signature" equals the previous manifest.sig; "chain.sequence" goes up by one
\`\`\`

## Checkpoints: nothing can be dropped unnoticed

At least daily, even when nothing changed, the system (a role that may sign; never the exporter or
you) writes a signed **checkpoint** to \`checkpoints/<yyyymmddThhmmssZ>.json\`, as CloudTrail does
with its digest files: every configured control with its chain heads and every manifest added since
the previous checkpoint, the control's \`addedOn\`, the config's hash, and the previous checkpoint's
hash and signature. The verifier requires a checkpoint written after the range ends and one no
older than 36 hours at the check time, checks the checkpoint chain, requires every manifest a
checkpoint lists for a period in the range, and a manifest for every period of every listed control
since its \`addedOn\`. Deleting a control, a chain's tail, a manifest or a checkpoint is therefore a
named problem. A folder synced from the bucket needs the checkpoints too:
\`aws s3 sync s3://${input.bucket}/checkpoints/ ./evidence/_checkpoints\` (or sync the bucket root).

**Residual window.** What was written after the newest checkpoint in the archive is not yet pinned
by any checkpoint: a run recorded in that window (at most about a day, the checkpoint interval,
before the export) could be removed without a checkpoint naming it. A period removed that way is
still reported as missing when it was due; what can go unnoticed is a re-run that superseded an
earlier run of a period that already had one. Export a day after the range ends, or check that the
newest checkpoint is later than the last run you rely on.

## Populations and samples

A run's \`population-<name>.jsonl\` files are the populations you sample from (one item a line,
canonical JSON, each with a stable \`id\`). Its manifest lists each with its row count, the SHA-256
of its content, the cap, and its provenance: the query text and its SHA-256, the bound parameters,
the database's \`system_identifier\`, version and name, and when it ran. \`verify\` checks them like
every artifact; a changed, added or removed line is \`population-altered\`. Draw a sample with
\`soc2-evidence sample --control ID --population NAME --from DATE --to DATE --seed SEED --out DIR\`
and confirm one with \`soc2-evidence sample --check DIR\`. **The seed must come from you, the
auditor**, chosen after the population is fixed: with a seed the audited company picked, it could
have tried seeds until it liked the sample.

## What the other files are

- \`index.html\`: an overview (control x period matrix, coloured by verdict, then criteria coverage,
  pre-audit readiness, the risk heat map and the sign-offs). **Unsigned convenience view**: \`verify\`
  regenerates it from the archive's own files and fails if it differs.
- \`oscal/assessment-results.json\`: the same results as OSCAL 1.0.4 Assessment Results, naming every
  criterion reviewed; observations link to the evidence files by relative path and SHA-256.
  Unsigned view, regenerated and compared.
- this \`VERIFY.md\`: regenerated and compared the same way.
- \`sign-offs.json\`: every sign-off (review) in the range with its sealed evidence document; each
  document must hash to what its signed manifest lists. Regenerated and compared.
- \`report-inputs.json\` (when the export had a config): the configuration part the audit views are
  computed from. It cannot be signed by the exporter, so it is checked only against \`export.json\`;
  compare it with the reviewed configuration.
- \`coverage.json\`, \`readiness.json\`, \`risk-heat-map.json\`, \`oscal/poam.json\` (with a config):
  criteria coverage, the pre-audit checklist, the heat map and the OSCAL POA&M (sign-offs as risk-log
  entries), computed from the manifests, the sign-offs and \`report-inputs.json\`; regenerated and
  compared, so editing one fails verification.
- \`export.json\`: the requested range, the export time and the hashes of the generated files. Unsigned.

## Crashes, races and orphans

The recorder advances the chain head before it writes the manifest, so a crash or a lost race leaves
at most an **unsealed run folder** (an artifact no manifest lists), listed as a note. Evidence written
by earlier versions may hold an **orphan**: a signed manifest whose sequence number is taken on the
chain by the retried run; a note when its verdict equals the run that took its place, a problem
(\`orphan-conflict\`) when it differs, since no crash or race can produce that.
`;
}
