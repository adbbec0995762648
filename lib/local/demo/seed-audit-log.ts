import type pg from 'pg';

export interface AuditLogSeed {
  /** First event; a little over a year before the demo date so the retention check holds. */
  readonly from: Date;
  readonly to: Date;
  /** The deliberate silence the monthly audit-log test must catch. */
  readonly gap: { readonly start: Date; readonly end: Date };
}

/** The reference `audit_log` shape (soc2-compliance-mapping.md), indexed on its timestamp. */
export const AUDIT_LOG_DDL = `
CREATE TABLE IF NOT EXISTS audit_log (
  id          bigserial PRIMARY KEY,
  "timestamp" timestamptz NOT NULL,
  user_id     text NOT NULL,
  action      text NOT NULL,
  resource_id text,
  success     boolean NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_log_timestamp_idx ON audit_log ("timestamp");`;

/**
 * A year of realistic activity: an event every few minutes around the clock (busier in office
 * hours), 120 users, mostly logins and reads, ~3% failed attempts, weekly admin exports, and one
 * multi-hour silence in business hours (no other silence reaches 35 minutes). Generated inside
 * PostgreSQL, so it takes about a second.
 */
export async function seedAuditLog(client: pg.Client, seed: AuditLogSeed): Promise<number> {
  await client.query(AUDIT_LOG_DDL);
  // The same activity on every run (this session's random()), so a demo or test sees the same log.
  await client.query('SELECT setseed(0.42)');
  const result = await client.query(
    `INSERT INTO audit_log ("timestamp", user_id, action, resource_id, success)
     SELECT ts,
            'u' || lpad((1 + floor(random() * 120))::int::text, 3, '0'),
            CASE WHEN r < 0.55 THEN 'login' WHEN r < 0.85 THEN 'read' WHEN r < 0.97 THEN 'update' ELSE 'permission_change' END,
            'res-' || (floor(random() * 500))::int,
            random() > 0.03
       FROM (SELECT ts + (random() * interval '150 seconds') AS ts, random() AS r
               FROM generate_series($1::timestamptz, $2::timestamptz, interval '3 minutes') AS ts
              -- Off hours keep half the slots at random, and always the two slots at :00 and :30,
              -- so no silence but the planted one ever reaches an hour (20 dropped slots in a row
              -- happened about once a month of random data and failed a passing control).
              WHERE extract(hour FROM ts) BETWEEN 8 AND 18 OR extract(minute FROM ts)::int % 30 < 3
                    OR random() < 0.5) AS events
      WHERE ts < $2::timestamptz AND NOT (ts >= $3::timestamptz AND ts < $4::timestamptz)`,
    [seed.from, seed.to, seed.gap.start, seed.gap.end],
  );
  // Weekly admin exports, each on a Monday morning, so the required-actions check has data.
  await client.query(
    `INSERT INTO audit_log ("timestamp", user_id, action, resource_id, success)
     SELECT ts, 'u001', 'admin_export', 'tenant-export', true
       FROM generate_series(date_trunc('week', $1::timestamptz) + interval '7 days 10 hours', $2::timestamptz, interval '7 days') AS ts
      WHERE NOT (ts >= $3::timestamptz AND ts < $4::timestamptz)`,
    [seed.from, seed.to, seed.gap.start, seed.gap.end],
  );
  // The monthly rotation CronJob of the reference platform logs each database password rotation.
  await client.query(
    `INSERT INTO audit_log ("timestamp", user_id, action, resource_id, success)
     SELECT ts, 'rotation-bot', 'secrets_rotation', 'db_password', true
       FROM generate_series(date_trunc('month', $1::timestamptz) + interval '1 month 2 hours', $2::timestamptz, interval '1 month') AS ts`,
    [seed.from, seed.to],
  );
  await client.query('ANALYZE audit_log');
  return result.rowCount ?? 0;
}
