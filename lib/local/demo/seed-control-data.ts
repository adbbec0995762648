import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import pg from 'pg';

/** Runs one SQL text on a database URL (superuser or owner; fixtures only, the product only reads). */
export type DemoSql = (url: string, text: string, params?: unknown[]) => Promise<unknown>;

export interface ControlDemoSeed {
  /** @default a helper that opens one pg connection per call */
  readonly sql?: DemoSql;
  readonly appDatabaseUrl: string;
  readonly restoredDatabaseUrl: string;
  readonly s3: S3Client;
  readonly bucket: string;
  readonly asOf: Date;
}

/** What was seeded, and the one deliberate failure of each control test type (for the demo's output). */
export interface ControlDemoSummary {
  readonly recoveryPoint: string;
  readonly deliberateFailures: Readonly<Record<string, string>>;
}

const DAY = 86_400_000;

const defaultSql: DemoSql = async (url, text, params = []) => {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(text, params);
  } finally {
    await client.end();
  }
};

/**
 * The business data, generated deterministically inside PostgreSQL so the "restored" database can
 * be produced by running the same statements with a cut-off: $1 = as-of, $2 = keep rows created
 * before this instant (the recovery point for the restore; the as-of instant for production).
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
CREATE INDEX ON app.orders (created_at);
`;

const CUSTOMERS = `
INSERT INTO app.customers (id, name, created_at)
SELECT i, 'Customer ' || i, $1::timestamptz - (i * interval '2 days') - interval '1 hour'
  FROM generate_series(1, 200) AS i
 WHERE $1::timestamptz - (i * interval '2 days') - interval '1 hour' < $2::timestamptz`;

/** An order about every two hours for 400 days, newest first by id. */
const ORDERS = `
INSERT INTO app.orders (id, customer_id, total_cents, created_at)
SELECT i, 1 + (i * 7) % 200, 500 + (i * 37) % 20000, $1::timestamptz - i * interval '115 minutes'
  FROM generate_series(1, 5000) AS i
 WHERE $1::timestamptz - i * interval '115 minutes' < $2::timestamptz`;

/**
 * Workforce accounts: everyone signed in within the last month, except the deliberate dormant
 * account (enabled, last login 140 days ago). A departed employee is correctly disabled, and a
 * new hire has not signed in yet (created 5 days ago: not dormant).
 */
const USERS = `
INSERT INTO app.users (username, email, enabled, last_login_at, created_at, removed_at)
SELECT 'user' || lpad(i::text, 2, '0'), 'user' || i || '@example.com', true,
       $1::timestamptz - (i * interval '23 hours'), $1::timestamptz - interval '500 days', NULL::timestamptz
  FROM generate_series(1, 24) AS i
UNION ALL SELECT 'dan.dormant', 'dan@example.com', true, $1::timestamptz - interval '140 days', $1::timestamptz - interval '700 days', NULL
UNION ALL SELECT 'frank.former', 'frank@example.com', false, $1::timestamptz - interval '65 days', $1::timestamptz - interval '900 days', $1::timestamptz - interval '60 days'
UNION ALL SELECT 'nina.new', 'nina@example.com', true, NULL::timestamptz, $1::timestamptz - interval '5 days', NULL`;

interface Finding {
  id: string;
  pkg: string;
  severity: 'CRITICAL' | 'HIGH';
}

function trivyReport(createdAt: Date, findings: readonly Finding[]): string {
  const artifact = 'registry.example.com/shop-api:2026.11';
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
): Promise<void> {
  const bytes = Buffer.from(body, 'utf8');
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: bytes,
      ContentLength: bytes.length,
      ContentType: contentType,
    }),
  );
}

/**
 * Seeds what the control tests of `soc2-evidence.yaml` read, besides the audit log (seeded by the
 * demo itself): business tables and workforce accounts in the app database, a staging restore of
 * them, rotation events, Trivy reports and attestation uploads. Each test type gets exactly one
 * deliberate failure; everything else is healthy:
 * - secret-rotation: `api_signing_key` last rotated 120 days ago;
 * - restore-verification: one order older than the recovery point is missing from the restore;
 * - vulnerability-scan: the newest Trivy report is 10 days old;
 * - access-review: `dan.dormant` is enabled but last signed in 140 days ago;
 * - manual-attestation: no incident-response tabletop report uploaded for the year
 *   (the penetration-test report is there).
 * Times are relative to `asOf`, so any demo date works.
 */
export async function seedControlDemoData(seed: ControlDemoSeed): Promise<ControlDemoSummary> {
  const sql = seed.sql ?? defaultSql;
  const { asOf, appDatabaseUrl: app, restoredDatabaseUrl: restored } = seed;
  const at = asOf.toISOString();
  // Last night's staging restore: recovery point 26 h before as-of, restored in 37 minutes.
  const recoveryPoint = new Date(asOf.getTime() - 26 * 3_600_000);
  const restoreStarted = new Date(recoveryPoint.getTime() + 15 * 60_000);
  const restoreCompleted = new Date(restoreStarted.getTime() + 37 * 60_000);
  const rp = recoveryPoint.toISOString();

  await sql(app, BUSINESS_DATA);
  await sql(app, CUSTOMERS, [at, at]);
  await sql(app, ORDERS, [at, at]);
  await sql(app, USERS, [at]);
  await sql(app, 'ANALYZE app.customers; ANALYZE app.orders; ANALYZE app.users');

  await sql(restored, BUSINESS_DATA);
  await sql(restored, CUSTOMERS, [at, rp]);
  await sql(restored, ORDERS, [at, rp]);
  await sql(restored, USERS, [at]);
  // The deliberate restore defect: an order from three weeks before the recovery point is missing.
  await sql(restored, 'DELETE FROM app.orders WHERE id = 300');
  await sql(
    restored,
    'CREATE TABLE public.soc2_restore_log (recovery_point timestamptz NOT NULL, started_at timestamptz, completed_at timestamptz)',
  );
  await sql(restored, 'INSERT INTO public.soc2_restore_log VALUES ($1, $2, $3)', [
    rp,
    restoreStarted.toISOString(),
    restoreCompleted.toISOString(),
  ]);

  // Rotation events for the secrets the demo config lists besides db_password (the audit-log seed
  // rotates that one monthly). Dated before the audit-log control's month, so they cannot fill its gap.
  await sql(
    app,
    `INSERT INTO audit_log ("timestamp", user_id, action, resource_id, success) VALUES
       ($1, 'rotation-bot', 'secrets_rotation', 'smtp_password', true),
       ($2, 'rotation-bot', 'secrets_rotation', 'api_signing_key', true),
       ($3, 'rotation-bot', 'secrets_rotation', 'api_signing_key', false)`,
    [
      new Date(asOf.getTime() - 40 * DAY).toISOString(),
      new Date(asOf.getTime() - 120 * DAY).toISOString(),
      new Date(asOf.getTime() - 35 * DAY).toISOString(),
    ],
  );

  // Weekly Trivy scans that stopped 10 days ago. A critical finding was fixed within a week.
  const scans: [number, Finding[]][] = [
    [
      24,
      [
        { id: 'CVE-2026-31337', pkg: 'openssl', severity: 'CRITICAL' },
        { id: 'CVE-2026-1204', pkg: 'zlib', severity: 'HIGH' },
      ],
    ],
    [17, [{ id: 'CVE-2026-1204', pkg: 'zlib', severity: 'HIGH' }]],
    [10, [{ id: 'CVE-2026-1204', pkg: 'zlib', severity: 'HIGH' }]],
  ];
  for (const [daysAgo, findings] of scans) {
    const createdAt = new Date(asOf.getTime() - daysAgo * DAY);
    const key = `scans/trivy/shop-api/${createdAt.toISOString().slice(0, 10)}.json`;
    await put(seed.s3, seed.bucket, key, trivyReport(createdAt, findings), 'application/json');
  }

  // Last year's penetration-test report is on file; the incident-response tabletop report is not.
  const lastYear = asOf.getUTCFullYear() - 1;
  await put(
    seed.s3,
    seed.bucket,
    `attestations/penetration-test/${lastYear}/pentest-report-summary.md`,
    `# External penetration test ${lastYear}\n\nScope: shop-api, admin console. 0 critical, 2 medium findings (remediated).\n`,
    'text/markdown',
  );

  return {
    recoveryPoint: rp,
    deliberateFailures: {
      'secret-rotation': 'api_signing_key last rotated 120 days ago',
      'restore-verification': 'order 300 missing from the staging restore',
      'vulnerability-scan': 'newest Trivy report is 10 days old',
      'access-review': 'dan.dormant enabled with no login for 140 days',
      'manual-attestation': `no incident-response tabletop report uploaded for ${lastYear}`,
    },
  };
}
