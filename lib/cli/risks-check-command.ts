import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseDocument } from 'yaml';
import { ConfigError, DEFAULT_CONFIG_PATH, parseConfig } from '../config/load-config.ts';
import { checkRegister, type GateViolation } from '../risks/register-check.ts';
import { type CliIo, EXIT, UsageError } from './io.ts';

export const RISKS_CHECK_HELP = `Usage: soc2-evidence risks check [--base REF] [--register FILE] [--config PATH]

The pull-request gate for the risk register. Prints one line per violation and exits 1 if there is
any: an asset without a complete STRIDE walk-through (a risk or a written notApplicable reason for
each of the six categories), an asset added since --base without one, a confidential or restricted
asset not encrypted at rest without an accepted information-disclosure risk, an inherent score at
or above the threshold without a written mitigation, an accepted residual at or above it, an owner
or linked control the config does not declare, or a register that does not parse. Dates (overdue
reviews) are not checked: a pull request cannot make time pass.

Options:
  --base REF        compare with the register at this git ref (git show REF:path), e.g. origin/main,
                    so an asset the pull request adds is named as added without a walk-through
  --register FILE   the register to check (default: the config's riskRegister file)
  --config PATH     configuration declaring owners and controls (default: ${DEFAULT_CONFIG_PATH})
  -h, --help        show this help

Exit codes: 0 no violation, 1 violations (one line each), 2 bad usage, unreadable files or an
invalid configuration outside the register.`;

/** The gate found violations (exit 1). */
const EXIT_VIOLATIONS = 1;

class GitError extends Error {
  override name = 'GitError';
}

function git(args: readonly string[], cwd: string): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  return new Promise((resolveRun) => {
    execFile('git', [...args], { cwd, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolveRun({ ok: !error, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

function parseYaml(text: string, source: string): unknown {
  const document = parseDocument(text, { uniqueKeys: true });
  if (document.errors.length > 0) {
    const first = document.errors[0];
    throw new ConfigError(
      source,
      document.errors.map((e) => `YAML: ${e.message.split('\n')[0] ?? ''}`),
      {
        cause: first,
      },
    );
  }
  return document.toJS();
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(
      `${what} ${path}: cannot read the file: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      {
        cause: error,
      },
    );
  }
}

/** Where the register lives: its own file (relative to the config), or inline in the config. */
type RegisterSource = { kind: 'file'; path: string } | { kind: 'inline'; configPath: string };

/** The register at `ref`: `null` when the file did not exist there. */
async function registerAtRef(ref: string, source: RegisterSource): Promise<unknown> {
  const path = source.kind === 'file' ? source.path : source.configPath;
  const cwd = dirname(path);
  const commit = await git(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], cwd);
  if (!commit.ok) throw new UsageError(`--base: "${ref}" is not a commit in the repository at ${cwd}`);
  const spec = `${ref}:./${basename(path)}`;
  const exists = await git(['cat-file', '-e', spec], cwd);
  if (!exists.ok) return null;
  const shown = await git(['show', spec], cwd);
  if (!shown.ok) throw new GitError(`git show ${spec} failed: ${shown.stderr.trim()}`);
  const raw = parseYaml(shown.stdout, `${spec}`);
  if (source.kind === 'file') return raw;
  const inline = (raw as { riskRegister?: unknown } | null)?.riskRegister;
  // The base config pointed at a file: read that file at the same ref.
  if (typeof inline === 'string') return registerAtRef(ref, { kind: 'file', path: resolve(cwd, inline) });
  return inline ?? null;
}

export function formatViolation(file: string, violation: GateViolation): string {
  return `${file}: ${violation.path}: ${violation.message}`;
}

/** `soc2-evidence risks check`: see RISKS_CHECK_HELP. */
export async function risksCheckCommand(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: {
        base: { type: 'string' },
        register: { type: 'string' },
        config: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      io.stdout(RISKS_CHECK_HELP);
      return EXIT.ok;
    }
    if (values.base !== undefined && values.base.trim() === '')
      throw new UsageError('--base: expected a git ref');
    const configPath = resolve(values.config ?? DEFAULT_CONFIG_PATH);
    const rawConfig = parseYaml(await readText(configPath, '--config'), configPath);
    if (!rawConfig || typeof rawConfig !== 'object')
      throw new ConfigError(configPath, ['(root): the configuration is empty']);
    const configured = (rawConfig as { riskRegister?: unknown }).riskRegister;

    let source: RegisterSource;
    let registerRaw: unknown;
    if (values.register !== undefined) {
      source = { kind: 'file', path: resolve(values.register) };
    } else if (typeof configured === 'string') {
      source = { kind: 'file', path: resolve(dirname(configPath), configured) };
    } else if (configured !== undefined) {
      source = { kind: 'inline', configPath };
      registerRaw = configured;
    } else {
      throw new UsageError(`${configPath} has no riskRegister and no --register was given`);
    }
    if (source.kind === 'file') registerRaw = parseYaml(await readText(source.path, 'register'), source.path);

    // Owners and controls come from the config, checked without the register: a broken register
    // is this command's finding (exit 1), a broken config is bad usage (exit 2).
    const config = parseConfig(
      { ...(rawConfig as Record<string, unknown>), riskRegister: undefined },
      configPath,
    );
    const base = values.base === undefined ? undefined : await registerAtRef(values.base, source);

    const result = checkRegister({
      register: registerRaw,
      ...(values.base !== undefined ? { base, baseLabel: values.base } : {}),
      ownerIds: new Set(config.owners.map((o) => o.id)),
      controlIds: new Set(config.controls.map((c) => c.id)),
    });
    const file = source.kind === 'file' ? source.path : `${configPath} (riskRegister)`;
    const shown = file.startsWith(`${process.cwd()}/`) ? file.slice(process.cwd().length + 1) : file;
    if (result.violations.length === 0) {
      const assets = result.register?.assets.length ?? 0;
      io.stdout(
        `${shown}: no violations (${assets} asset${assets === 1 ? '' : 's'} walked through all six STRIDE categories` +
          `${values.base !== undefined ? `; ${result.addedAssets.length} added since ${values.base}` : ''}).`,
      );
      return EXIT.ok;
    }
    io.stdout(result.violations.map((v) => formatViolation(shown, v)).join('\n'));
    io.stderr(
      `risks check: ${result.violations.length} violation${result.violations.length === 1 ? '' : 's'}; the register may not be merged as it stands.`,
    );
    return EXIT_VIOLATIONS;
  } catch (error) {
    if (error instanceof ConfigError || error instanceof UsageError) {
      io.stderr(error.message);
      return EXIT.usage;
    }
    if (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) {
      io.stderr(`${error.message}\n\n${RISKS_CHECK_HELP}`);
      return EXIT.usage;
    }
    throw error;
  }
}
