import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import pg from 'pg';
import { SIMULATED_UPLOAD_TIME_METADATA } from '../simulated-upload-time.ts';
import type { DemoYear } from './demo-year.ts';

/** Runs one SQL text on a database URL (superuser or owner; fixtures only, the product only reads). */
export type DemoSql = (url: string, text: string, params?: unknown[]) => Promise<unknown>;

export interface ControlDemoSeed {
  /** @default {@link connectDemoSql}'s, closed when the seeding is done */
  readonly sql?: DemoSql;
  readonly appDatabaseUrl: string;
  readonly restoredDatabaseUrl: string;
  readonly s3: S3Client;
  readonly bucket: string;
  /** The year the data spans, with its incidents. */
  readonly year: DemoYear;
}

/** The incidents seeded (for the demo's output), by control id. */
export interface ControlDemoSummary {
  readonly incidents: Readonly<Record<string, string>>;
}

/**
 * A {@link DemoSql} that keeps one connection per database until `close()`: the demo runs hundreds
 * of fixture statements, and a TLS handshake per statement would cost more than the statements.
 */
export function connectDemoSql(): { sql: DemoSql; close: () => Promise<void> } {
  const clients = new Map<string, Promise<pg.Client>>();
  const clientFor = (url: string) => {
    let client = clients.get(url);
    if (!client) {
      const created = new pg.Client({ connectionString: url });
      client = created.connect().then(() => created);
      clients.set(url, client);
    }
    return client;
  };
  return {
    sql: async (url, text, params = []) => (await clientFor(url)).query(text, params),
    close: async () => {
      const all = [...clients.values()];
      clients.clear();
      await Promise.all(all.map(async (client) => (await client).end()));
    },
  };
}

/**
 * The business data, generated deterministically inside PostgreSQL; $1 = the demo date. The restored
 * database gets the same rows: each month's restore is compared on the rows created before its
 * recovery point, which both sides hold.
 */
const BUSINESS_DATA = `
CREATE SCHEMA IF NOT EXISTS app;
CREATE TABLE app.customers (id int PRIMARY KEY, name text NOT NULL, created_at timestamptz NOT NULL);
CREATE TABLE app.orders (
  id bigint PRIMARY KEY,
  customer_id int NOT NULL REFERENCES app.customers (id),
  total_cents int NOT NULL,
  created_at timestamptz NOT NULL
);
CREATE TABLE app.users (
  username text PRIMARY KEY,
  email text NOT NULL,
  enabled boolean NOT NULL,
  last_login_at timestamptz,
  created_at timestamptz NOT NULL,
  removed_at timestamptz
);
CREATE INDEX ON app.orders (created_at);`;

const CUSTOMERS = `
INSERT INTO app.customers (id, name, created_at)
SELECT i, 'Customer ' || i, $1::timestamptz - (i * interval '2 days') - interval '1 hour'
  FROM generate_series(1, 200) AS i`;

/** An order about every two hours for 400 days, newest first by id. */
const ORDERS = `
INSERT INTO app.orders (id, customer_id, total_cents, created_at)
SELECT i, 1 + (i * 7) % 200, 500 + (i * 37) % 20000, $1::timestamptz - i * interval '115 minutes'
  FROM generate_series(1, 5000) AS i`;

/**
 * Workforce accounts as they were at $1 (the demo date is $2): everyone signed in within the last
 * few weeks; frank.former left 60 days before the demo date and was disabled that day; nina.new
 * joined 5 days before it and has not signed in yet (not dormant: created within 90 days). The
 * table is a snapshot (as a users table is), so the demo rewrites it to each quarter's state before
 * that quarter's access review runs.
 */
const USERS_AT = `
INSERT INTO app.users (username, email, enabled, last_login_at, created_at, removed_at)
SELECT * FROM (
  SELECT 'user' || lpad(i::text, 2, '0'), 'user' || i || '@example.com', true,
         $1::timestamptz - (i * interval '23 hours'), $2::timestamptz - interval '500 days', NULL::timestamptz
    FROM generate_series(1, 24) AS i
  UNION ALL SELECT 'frank.former', 'frank@example.com', $1::timestamptz < $2::timestamptz - interval '60 days',
         least($1::timestamptz - interval '1 day', $2::timestamptz - interval '65 days'), $2::timestamptz - interval '900 days',
         CASE WHEN $1::timestamptz >= $2::timestamptz - interval '60 days' THEN $2::timestamptz - interval '60 days' END
  UNION ALL SELECT 'nina.new', 'nina@example.com', true, NULL, $2::timestamptz - interval '5 days', NULL
) AS u (username, email, enabled, last_login_at, created_at, removed_at)
WHERE created_at <= $1::timestamptz`;

/** Rewrites `app.users` to the accounts as they were at `at` (see {@link USERS_AT}). */
export async function seedUsersAsOf(sql: DemoSql, url: string, at: Date, demoDate: Date): Promise<void> {
  await sql(url, 'DELETE FROM app.users');
  await sql(url, USERS_AT, [at.toISOString(), demoDate.toISOString()]);
}

interface Finding {
  id: string;
  pkg: string;
  severity: 'CRITICAL' | 'HIGH';
}

function trivyReport(createdAt: Date, findings: readonly Finding[]): string {
  const artifact = 'registry.example.com/shop-api:stable';
  return `${JSON.stringify(
    {
      SchemaVersion: 2,
      CreatedAt: createdAt.toISOString(),
      ArtifactName: artifact,
      ArtifactType: 'container_image',
      Results: [
        {
          Target: `${artifact} (debian 12.7)`,
          Class: 'os-pkgs',
          Type: 'debian',
          Vulnerabilities: findings.map((f) => ({
            VulnerabilityID: f.id,
            PkgName: f.pkg,
            InstalledVersion: '1.0.0',
            FixedVersion: '1.0.1',
            Severity: f.severity,
            Title: `${f.id} in ${f.pkg}`,
          })),
        },
      ],
    },
    null,
    2,
  )}\n`;
}

async function put(
  s3: S3Client,
  bucket: string,
  key: string,
  body: string,
  contentType: string,
  uploadedAt: Date,
): Promise<void> {
  const bytes = Buffer.from(body, 'utf8');
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: bytes,
      ContentLength: bytes.length,
      ContentType: contentType,
      Metadata: { [SIMULATED_UPLOAD_TIME_METADATA]: uploadedAt.toISOString() },
    }),
  );
}

/**
 * Seeds what the control tests of `soc2-evidence.yaml` read over the demo's year, besides the audit
 * log's activity (seeded by the demo itself): business tables and workforce accounts in the app
 * database, the same rows in the staging restore with one restore-log row per month, rotation
 * events, weekly Trivy reports (dated in S3 by their simulated upload) and the annual attestations.
 * Healthy except the incidents of {@link DemoYear}: the secret overdue in two months, the restore
 * that crashed in one.
 */
export async function seedControlDemoData(seed: ControlDemoSeed): Promise<ControlDemoSummary> {
  const own = seed.sql ? undefined : connectDemoSql();
  const sql = seed.sql ?? own?.sql ?? (async () => undefined);
  try {
    return await seedWith(sql, seed);
  } finally {
    await own?.close();
  }
}

async function seedWith(sql: DemoSql, seed: ControlDemoSeed): Promise<ControlDemoSummary> {
  const { year, appDatabaseUrl: app, restoredDatabaseUrl: restored } = seed;
  const at = year.asOf.toISOString();

  for (const url of [app, restored]) {
    await sql(url, BUSINESS_DATA);
    await sql(url, CUSTOMERS, [at]);
    await sql(url, ORDERS, [at]);
    await seedUsersAsOf(sql, url, year.asOf, year.asOf);
    await sql(url, 'ANALYZE app.customers; ANALYZE app.orders; ANALYZE app.users');
  }
  await sql(
    restored,
    'CREATE TABLE public.soc2_restore_log (recovery_point timestamptz NOT NULL, started_at timestamptz, completed_at timestamptz)',
  );
  await sql(
    restored,
    `INSERT INTO public.soc2_restore_log
     SELECT * FROM unnest($1::timestamptz[], $2::timestamptz[], $3::timestamptz[])`,
    [
      year.restores.map((r) => r.recoveryPoint.toISOString()),
      year.restores.map((r) => r.startedAt.toISOString()),
      year.restores.map((r) => r.completedAt?.toISOString() ?? null),
    ],
  );
  await sql(
    app,
    `INSERT INTO audit_log ("timestamp", user_id, action, resource_id, success)
     SELECT ts, 'rotation-bot', 'secrets_rotation', resource_id, success
       FROM unnest($1::timestamptz[], $2::text[], $3::boolean[]) AS r (ts, resource_id, success)`,
    [
      year.rotations.map((r) => r.at.toISOString()),
      year.rotations.map((r) => r.resourceId),
      year.rotations.map((r) => r.success),
    ],
  );

  // A high finding that is not held to the SLA, in every report; the critical one only where seeded.
  const high: Finding = { id: 'CVE-2026-1204', pkg: 'zlib', severity: 'HIGH' };
  const critical: Finding = { id: 'CVE-2026-31337', pkg: 'openssl', severity: 'CRITICAL' };
  const uploads = seed.year.scans.map((scan) =>
    put(
      seed.s3,
      seed.bucket,
      `scans/trivy/shop-api/${scan.createdAt.toISOString().slice(0, 13)}.json`,
      trivyReport(scan.createdAt, scan.critical ? [critical, high] : [high]),
      'application/json',
      scan.uploadedAt,
    ),
  );
  // The year before the demo's: the penetration test report and the tabletop exercise report.
  const lastYear = Number(year.months[0]?.slice(0, 4));
  uploads.push(
    put(
      seed.s3,
      seed.bucket,
      `attestations/penetration-test/${lastYear}/pentest-report-summary.md`,
      `# External penetration test ${lastYear}\n\nScope: shop-api, admin console. 0 critical, 2 medium findings (remediated).\n`,
      'text/markdown',
      new Date(Date.UTC(lastYear, 9, 14, 16)),
    ),
    put(
      seed.s3,
      seed.bucket,
      `attestations/incident-response/${lastYear}/tabletop-exercise-report.md`,
      `# Incident-response tabletop ${lastYear}\n\nScenario: leaked API signing key. Attendees: all hands. Follow-ups: rotate on a schedule.\n`,
      'text/markdown',
      new Date(Date.UTC(lastYear, 10, 18, 15)),
    ),
  );
  await Promise.all(uploads);

  const gap = year.auditLogGap;
  return {
    incidents: {
      'audit-log-completeness': `the audit log is silent for 4.5 h from ${gap.start.toISOString()} (${gap.monthKey})`,
      'secrets-rotation': `the API signing key's rotation fails in ${year.secretOverdueMonths[0]}; it is over 90 days old in ${year.secretOverdueMonths.join(' and ')}, rotated in ${year.secretRotatedMonth}`,
      'backup-restore': `the staging restore of ${year.restoreFailedMonth} crashes before completing; the next month's succeeds`,
    },
  };
}
