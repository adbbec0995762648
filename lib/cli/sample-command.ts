import { access } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { SampleProblemError, type SampleRequest } from '../audit/sample.ts';
import { checkSample, SAMPLE_FILE, SAMPLE_ITEMS_FILE, writeSample } from '../audit/sample-record.ts';
import { sampleSizeTable } from '../audit/sample-size.ts';
import { type EvidenceSource, pathEvidenceSource } from '../audit/sample-source.ts';
import { ConfigError, DEFAULT_CONFIG_PATH, loadConfig } from '../config/load-config.ts';
import { EvidenceReadError } from '../export/evidence-reader.ts';
import { ENV } from '../shared/runtime-env.ts';
import { makeBucketEvidenceSource } from '../wiring/make-evidence-source.ts';
import { type CliIo, cliCommand, EXIT, UsageError } from './io.ts';

export const SAMPLE_HELP = `Usage: soc2-evidence sample --control ID --population NAME --from DATE --to DATE --seed SEED --out DIR [options]
       soc2-evidence sample --check DIR

Draws a reproducible sample from a control's signed populations in the range: every item is ranked
by HMAC-SHA256(seed, "<periodKey>/<item id>") and the first N are taken, N from the config's
sample-size table (or --size). The seed must come from the auditor, chosen after the population
is fixed, so the sample cannot have been picked by the audited company. DIR receives sample.json
(seed, method, table, population hashes, manifest keys, selected ids), items.jsonl (the selected
items) and the signed evidence they rest on. --check DIR draws it again from the seed and the signed
population in DIR and confirms it.

Populations: the control's own (see its manifest's "populations"), or "runs" (its runs: period,
verdict, manifest; sized by the control's frequency).

Options:
  --control ID         the control
  --population NAME    the population to sample
  --from DATE          first day (YYYY-MM-DD) of the periods sampled
  --to DATE            last day (YYYY-MM-DD) of the periods sampled
  --seed SEED          the auditor's seed (any text)
  --size N             sample size, instead of the table
  --out DIR            where the sample is written
  --source PATH        an export zip or a synced folder (default: the evidence bucket, --bucket or $${ENV.evidenceBucket})
  --bucket NAME        evidence bucket
  --config FILE        config with a \`sampling\` table (default: ${DEFAULT_CONFIG_PATH} when present)
  --check DIR          confirm a sample written earlier
  --trusted-key FP     only accept manifests signed by this key fingerprint (repeatable)
  --json               print the result as JSON
  -h, --help           show this help

Exit codes: 0 drawn / confirmed, 1 a problem with the evidence or the sample (named), 2 bad usage.
`;

/** Where `sample` reads from: a path, or the bucket; `--local` passes its own source here. */
export interface SampleCommandDeps {
  readonly source?: (io: CliIo, values: { bucket?: string | undefined }) => Promise<EvidenceSource>;
}

export const sampleCommand = cliCommand({
  help: SAMPLE_HELP,
  usageErrors: [ConfigError],
  run: (argv: readonly string[], io: CliIo, deps: SampleCommandDeps = {}) => runSample(argv, io, deps),
});

async function sampleTable(configPath: string | undefined) {
  const path = configPath ?? DEFAULT_CONFIG_PATH;
  if (configPath === undefined) {
    const present = await access(path).then(
      () => true,
      () => false,
    );
    if (!present) return sampleSizeTable(undefined);
  }
  return sampleSizeTable((await loadConfig(path)).sampling);
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

async function runSample(argv: readonly string[], io: CliIo, deps: SampleCommandDeps): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: false,
    strict: true,
    options: {
      control: { type: 'string' },
      population: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      seed: { type: 'string' },
      size: { type: 'string' },
      out: { type: 'string' },
      source: { type: 'string' },
      bucket: { type: 'string' },
      config: { type: 'string' },
      check: { type: 'string' },
      'trusted-key': { type: 'string', multiple: true },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  void positionals;
  if (values.help) {
    io.stdout(SAMPLE_HELP);
    return EXIT.ok;
  }
  const trustedKeys = values['trusted-key']?.map((key) => {
    if (!/^[0-9a-fA-F]{64}$/.test(key))
      throw new UsageError(`--trusted-key ${key}: expected a 64-hex fingerprint`);
    return key.toLowerCase();
  });

  if (values.check !== undefined) {
    const check = await checkSample(values.check, trustedKeys ? { trustedKeys } : {});
    if (values.json) io.stdout(JSON.stringify(check, null, 2));
    else if (check.ok && check.file)
      io.stdout(
        `sample confirmed: ${check.file.selected.length} of ${check.file.populationSize} items of ${check.file.control}/${check.file.population} ${check.file.range.from}..${check.file.range.to}, seed "${check.file.seed}", population ${check.file.populationSha256.slice(0, 16)}… over ${check.file.sources.length} signed runs`,
      );
    else io.stdout(`sample REJECTED:\n${check.problems.map((p) => `  ${p.code}: ${p.message}`).join('\n')}`);
    return check.ok ? EXIT.ok : EXIT.controlFailed;
  }

  const missing = (['control', 'population', 'from', 'to', 'seed', 'out'] as const).filter(
    (name) => values[name] === undefined || values[name] === '',
  );
  if (missing.length > 0) throw new UsageError(`missing ${missing.map((name) => `--${name}`).join(', ')}`);
  const from = values.from ?? '';
  const to = values.to ?? '';
  for (const [name, value] of [
    ['--from', from],
    ['--to', to],
  ] as const) {
    if (!DATE.test(value) || Number.isNaN(Date.parse(value)))
      throw new UsageError(`${name}: expected a date (YYYY-MM-DD), got "${value}"`);
  }
  if (from > to) throw new UsageError(`--from ${from} is after --to ${to}`);
  let size: number | undefined;
  if (values.size !== undefined) {
    size = Number(values.size);
    if (!Number.isInteger(size) || size < 1)
      throw new UsageError(`--size: expected a positive integer, got "${values.size}"`);
  }
  const request: SampleRequest = {
    controlId: values.control ?? '',
    population: values.population ?? '',
    from,
    to,
    seed: values.seed ?? '',
    ...(size !== undefined ? { size } : {}),
    table: await sampleTable(values.config),
    ...(trustedKeys ? { trustedKeys } : {}),
  };

  let source: EvidenceSource & { close?: () => void };
  if (values.source !== undefined) {
    source = await pathEvidenceSource(values.source).catch((error: unknown) => {
      throw new UsageError(`--source ${values.source}: ${(error as Error).message}`, { cause: error });
    });
  } else if (deps.source) {
    source = await deps.source(io, { bucket: values.bucket });
  } else {
    const bucket = values.bucket ?? io.env[ENV.evidenceBucket];
    if (!bucket)
      throw new UsageError(`no evidence: pass --source PATH, --bucket or set ${ENV.evidenceBucket}`);
    source = makeBucketEvidenceSource(bucket, io.env);
  }
  try {
    const { file } = await writeSample(source, request, values.out ?? '');
    if (values.json) io.stdout(JSON.stringify(file, null, 2));
    else
      io.stdout(
        [
          `sample of ${file.control}/${file.population} ${file.range.from}..${file.range.to}: ${file.size.n} of ${file.populationSize} items (${file.size.rule})`,
          `seed "${file.seed}", ${file.method.ordering}; population ${file.populationSha256.slice(0, 16)}… over ${file.sources.length} signed runs`,
          ...file.selected.map((item) => `  ${item.id}  ${item.hmac.slice(0, 16)}…`),
          `written: ${values.out}/${SAMPLE_FILE}, ${values.out}/${SAMPLE_ITEMS_FILE} and the evidence under ${values.out}/evidence/`,
          `confirm with: soc2-evidence sample --check ${values.out}`,
        ].join('\n'),
      );
    return EXIT.ok;
  } catch (error) {
    if (error instanceof SampleProblemError) {
      io.stderr(`cannot draw the sample: ${error.code}: ${error.message}`);
      return EXIT.controlFailed;
    }
    if (error instanceof EvidenceReadError) {
      io.stderr(`cannot read the evidence: ${error.message}`);
      return EXIT.controlFailed;
    }
    throw error;
  } finally {
    source.close?.();
  }
}
