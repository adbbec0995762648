import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEnvironment, type TestEnvironment } from '../support/test-environment.ts';

/**
 * `npm start -- --keep` stopped from outside, as issue 12 found it: npm runs `sh -c "node ..."`, so
 * a parent that signals only npm (or only the shell) used to leave node, its PostgreSQL and the
 * emulators running. Each case starts the demo under a shell, waits until it says the services are
 * kept, stops it one way, and then asserts nothing is left: no process of its tree, no listening
 * port, no database it created on the DATABASE_URL server.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'soc2-evidence.mjs');

function descendants(pid: number): number[] {
  let out = '';
  try {
    out = execFileSync('ps', ['-eo', 'pid=,ppid='], { encoding: 'utf8' });
  } catch {
    return [];
  }
  const children = new Map<number, number[]>();
  for (const line of out.trim().split('\n')) {
    const [child, parent] = line.trim().split(/\s+/).map(Number);
    if (child === undefined || parent === undefined) continue;
    children.set(parent, [...(children.get(parent) ?? []), child]);
  }
  const found: number[] = [];
  const walk = (p: number) => {
    for (const c of children.get(p) ?? []) {
      found.push(c);
      walk(c);
    }
  };
  walk(pid);
  return found;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

async function until(check: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return check();
}

interface KeptDemo {
  readonly shell: ChildProcess;
  readonly output: () => string;
  readonly tree: number[];
  readonly ports: number[];
  readonly databases: string[];
}

async function startKeptDemo(databaseUrl?: string): Promise<KeptDemo> {
  // Its own process group, like `npm start` under a supervisor; stdio piped, never a terminal.
  const shell = spawn('sh', ['-c', `"${process.execPath}" "${BIN}" demo --keep`], {
    cwd: ROOT,
    detached: true,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  shell.stdout?.on('data', (chunk) => {
    text += String(chunk);
  });
  shell.stderr?.on('data', (chunk) => {
    text += String(chunk);
  });
  // The demo runs its whole year first: tens of seconds on a quiet machine, minutes on a busy one.
  const ready = await until(() => text.includes('Press Ctrl+C'), 720_000);
  if (!ready) throw new Error(`the demo did not reach --keep:\n${text}`);
  const ports = [...text.matchAll(/AWS_ENDPOINT_URL_\w+=http:\/\/127\.0\.0\.1:(\d+)/g)].map((m) =>
    Number(m[1]),
  );
  const databases = [...text.matchAll(/soc2_demo_\w+/g)].map((m) => m[0]);
  return { shell, output: () => text, tree: descendants(shell.pid ?? 0), ports, databases };
}

async function demoDatabasesLeft(serverUrl: string, names: readonly string[]): Promise<string[]> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>(
      'SELECT datname FROM pg_database WHERE datname = ANY($1)',
      [names],
    );
    return rows.map((row) => row.datname);
  } finally {
    await client.end();
  }
}

async function expectNothingLeft(demo: KeptDemo, serverUrl?: string) {
  const gone = await until(() => demo.tree.every((pid) => !alive(pid)), 60_000);
  expect(gone ? [] : demo.tree.filter(alive), demo.output()).toEqual([]);
  for (const port of new Set(demo.ports)) expect(await portOpen(port)).toBe(false);
  if (!serverUrl) return;
  expect(new Set(demo.databases).size).toBeGreaterThanOrEqual(2);
  expect(await demoDatabasesLeft(serverUrl, [...new Set(demo.databases)])).toEqual([]);
  expect(demo.output()).toMatch(/Removed the demo's databases/);
}

describe('demo --keep stops everything from any parent', { timeout: 900_000 }, () => {
  let env: TestEnvironment;
  beforeAll(async () => {
    env = await startTestEnvironment();
  });
  afterAll(async () => {
    await env?.stop();
  });

  it('when only its parent is killed (npm or the shell, SIGTERM), embedded PostgreSQL included', async () => {
    const demo = await startKeptDemo();
    const commands = execFileSync('ps', ['-o', 'args=', '-p', demo.tree.join(',')], { encoding: 'utf8' });
    expect(commands).toMatch(/bin\/postgres /);
    expect(demo.ports.length).toBeGreaterThanOrEqual(2);
    for (const port of new Set(demo.ports)) expect(await portOpen(port)).toBe(true);
    process.kill(demo.shell.pid ?? 0, 'SIGTERM');
    await expectNothingLeft(demo);
    expect(demo.output()).toMatch(/parent process \(\d+\) exited: stopping/);
  });

  it('when the process group gets SIGINT (Ctrl+C without a terminal), removing its DATABASE_URL databases', async () => {
    const demo = await startKeptDemo(env.postgresUrl);
    process.kill(-(demo.shell.pid ?? 0), 'SIGINT');
    await expectNothingLeft(demo, env.postgresUrl);
  });
});
