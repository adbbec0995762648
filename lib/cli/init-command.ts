import { access, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { draftConfig } from '../config/draft-config.ts';
import { introspectCatalog } from '../config/introspect-catalog.ts';
import { DEFAULT_CONFIG_PATH, parseConfigYaml } from '../config/load-config.ts';
import { ControlCheckError, EvidenceLog } from '../controls/outcome.ts';
import { makeDatabaseInspector } from '../wiring/make-database-inspector.ts';
import { type CliIo, cliCommand, EXIT, UsageError } from './io.ts';

export const INIT_HELP = `Usage: soc2-evidence init [--database-url URL | --env NAME] [--out FILE] [--force]

Drafts a commented configuration from your database: reads its catalog only (tables, columns,
indexes, planner statistics; never a row of data, in a read-only transaction) and proposes the
controls it can check as found: log completeness on an audit-log-like table (timestamp, user,
action, success), secret rotation from rotation events in it, an access review on a users table
(account, enabled, last login, removal date), encryption in transit, schedule health; the rest of
the reference schedule as commented templates. The file never contains the connection string:
the target reads it from the environment variable --env names.

Options:
  --database-url URL  the database to inspect (default: the value of $NAME, see --env)
  --env NAME          the variable the config's target reads its URL from (default DATABASE_URL)
  --out FILE          where to write (default ${DEFAULT_CONFIG_PATH}); - prints to stdout
  --added-on DATE     addedOn of the proposed controls (default today, UTC)
  --owner-email ADDR  the owner who receives failures and digests (default security@example.com)
  --force             overwrite an existing file
  -h, --help          show this help

Exit codes: 0 written, 2 bad usage, an existing file without --force, or an unreachable database.`;

const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

export const initCommand = cliCommand({
  help: INIT_HELP,
  run: async (argv: readonly string[], io: CliIo): Promise<number> => {
    const { values } = parseArgs({
      args: [...argv],
      options: {
        'database-url': { type: 'string' },
        env: { type: 'string', default: 'DATABASE_URL' },
        out: { type: 'string', default: DEFAULT_CONFIG_PATH },
        'added-on': { type: 'string' },
        'owner-email': { type: 'string' },
        force: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      io.stdout(INIT_HELP);
      return EXIT.ok;
    }
    const connectionEnv = values.env;
    if (!ENV_NAME.test(connectionEnv))
      throw new UsageError(`--env: "${connectionEnv}" is not an environment variable name`);
    const addedOn = values['added-on'] ?? new Date().toISOString().slice(0, 10);
    if (!/^\d{4}-\d{2}-\d{2}$/.test(addedOn))
      throw new UsageError(`--added-on: expected YYYY-MM-DD, got "${addedOn}"`);
    const url = values['database-url'] ?? io.env[connectionEnv];
    if (!url) throw new UsageError(`no database to inspect: pass --database-url or set ${connectionEnv}`);
    const out = values.out;
    if (out !== '-' && !values.force && (await exists(out))) {
      throw new UsageError(`${out} exists; pass --force to overwrite it (or --out another file)`);
    }

    const inspector = makeDatabaseInspector(url);
    let snapshot: Awaited<ReturnType<typeof introspectCatalog>>;
    try {
      snapshot = await inspector.withReadOnlySession('app', new EvidenceLog(), introspectCatalog);
    } catch (error) {
      if (error instanceof ControlCheckError)
        throw new UsageError(`cannot inspect the database: ${error.message}`);
      throw error;
    }
    const drafted = draftConfig(snapshot, {
      connectionEnv,
      addedOn,
      ...(values['owner-email'] ? { ownerEmail: values['owner-email'] } : {}),
    });
    // The draft must be a config `run` accepts as written; a failure here is our bug, not the user's.
    parseConfigYaml(drafted.yaml, 'drafted config');
    if (out === '-') {
      io.stdout(drafted.yaml);
      return EXIT.ok;
    }
    await writeFile(out, drafted.yaml, { flag: values.force ? 'w' : 'wx' });
    io.stdout(
      [
        `Inspected database "${snapshot.database}" (PostgreSQL ${snapshot.serverVersion}, ${snapshot.tables.length} tables and views; catalog only).`,
        `Wrote ${out} with ${drafted.proposals.length} control(s):`,
        ...drafted.proposals.map((proposal) => `  - ${proposal}`),
        '',
        `Next: review ${out}, then  ${connectionEnv}=<url> soc2-evidence run --local --config ${out}`,
      ].join('\n'),
    );
    return EXIT.ok;
  },
});
