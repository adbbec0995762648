import { DateTime } from 'luxon';
import { periodContaining } from '../../shared/period.ts';

/** A restore the staging restore job recorded; `completedAt` is null when the job crashed. */
export interface DemoRestore {
  readonly recoveryPoint: Date;
  readonly startedAt: Date;
  readonly completedAt: Date | null;
}

/** A Trivy report: when it was made (its CreatedAt) and uploaded, and what it found. */
export interface DemoScan {
  readonly createdAt: Date;
  readonly uploadedAt: Date;
  readonly critical: boolean;
}

export interface DemoRotation {
  readonly resourceId: string;
  readonly at: Date;
  readonly success: boolean;
}

/**
 * The demo's year of operation, as dates: twelve complete months ending with the month before the
 * demo date, the data each control reads spread over them, and three incidents that the real
 * control tests catch in exactly one stretch of periods and not after the remediation:
 * - a 4.5 h silence of the audit log in business hours of the fourth month;
 * - the API signing key's rotation failing in the sixth month, so it is overdue (over 90 days)
 *   when the sixth and seventh months are checked, and rotated in the eighth;
 * - the tenth month's staging restore crashing (no completion recorded), the eleventh's passing.
 * Pure: everything is derived from the demo date, so `--as-of` moves the whole year.
 */
export interface DemoYear {
  /** First instant of the year: the backfill starts here. */
  readonly from: Date;
  readonly asOf: Date;
  readonly timeZone: string;
  /** The twelve monthly period keys, oldest first. */
  readonly months: readonly string[];
  readonly auditLogGap: { readonly start: Date; readonly end: Date; readonly monthKey: string };
  readonly rotations: readonly DemoRotation[];
  /** The months whose secrets-rotation check finds the signing key overdue, and the first after. */
  readonly secretOverdueMonths: readonly string[];
  readonly secretRotatedMonth: string;
  readonly restores: readonly DemoRestore[];
  readonly restoreFailedMonth: string;
  readonly scans: readonly DemoScan[];
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The signing key of the demo's secrets-rotation incident. */
export const OVERDUE_SECRET = 'api_signing_key';

export function demoYear(asOf: Date, timeZone: string): DemoYear {
  const thisMonth = DateTime.fromJSDate(asOf, { zone: timeZone }).startOf('month');
  const monthStarts = Array.from({ length: 12 }, (_, index) => thisMonth.minus({ months: 12 - index }));
  const month = (index: number) => monthStarts[index] ?? thisMonth;
  const key = (index: number) => month(index).toFormat('yyyy-LL');
  const at = (index: number, day: number, hour = 0, minute = 0) =>
    month(index).set({ day, hour, minute }).toJSDate();

  // A Tuesday of the fourth month, 09:00-13:30 local time: business hours, limit 1 h.
  const gapDay = month(3).set({ day: 15 });
  const tuesday = gapDay.plus({ days: (2 - gapDay.weekday + 7) % 7 }).set({ hour: 9 });
  const gapStart = tuesday.toJSDate();

  // api_signing_key: rotated a little before the year and in the third month; the sixth month's
  // rotation fails, so it is over 90 days old at the ends of the sixth and seventh months; rotated
  // again in the eighth and the tenth. smtp_password every two months; db_password monthly (in the
  // audit-log seed, with the rotation CronJob).
  const rotations: DemoRotation[] = [
    { resourceId: OVERDUE_SECRET, at: new Date(at(0, 1, 3).getTime() - 11 * DAY), success: true },
    { resourceId: OVERDUE_SECRET, at: at(2, 10, 3), success: true },
    { resourceId: OVERDUE_SECRET, at: at(5, 6, 3), success: false },
    { resourceId: OVERDUE_SECRET, at: at(7, 8, 3), success: true },
    { resourceId: OVERDUE_SECRET, at: at(9, 28, 3), success: true },
    { resourceId: 'smtp_password', at: new Date(at(0, 5, 4).getTime() - 30 * DAY), success: true },
    ...[1, 3, 5, 7, 9, 11].map((index) => ({
      resourceId: 'smtp_password',
      at: at(index, 5, 4),
      success: true,
    })),
  ];

  // The staging restore on the 20th of every month: recovery point 02:00, done in 37 minutes.
  const restores: DemoRestore[] = monthStarts.map((_, index) => {
    const recoveryPoint = at(index, 20, 2);
    const startedAt = new Date(recoveryPoint.getTime() + 15 * 60_000);
    const crashed = index === 9;
    return {
      recoveryPoint,
      startedAt,
      completedAt: crashed ? null : new Date(startedAt.getTime() + 37 * 60_000),
    };
  });

  // Weekly Trivy scans, Sundays 22:00, uploaded ten minutes later; in the seventh month a critical
  // finding shows up and a scan 36 hours later shows it patched (within the 48 h SLA).
  const firstSunday = DateTime.fromJSDate(monthStarts[0]?.toJSDate() ?? asOf, { zone: timeZone })
    .minus({ days: 7 })
    .set({ hour: 22 });
  const sunday = firstSunday.plus({ days: (7 - firstSunday.weekday) % 7 });
  const criticalWeek = month(6).plus({ days: 14 });
  const scans: DemoScan[] = [];
  for (let when = sunday; when.toMillis() < asOf.getTime(); when = when.plus({ weeks: 1 })) {
    const createdAt = when.toJSDate();
    const critical = when >= criticalWeek && when < criticalWeek.plus({ weeks: 1 });
    scans.push({ createdAt, uploadedAt: new Date(createdAt.getTime() + 10 * 60_000), critical });
    if (critical) {
      const patched = new Date(createdAt.getTime() + 36 * HOUR);
      scans.push({
        createdAt: patched,
        uploadedAt: new Date(patched.getTime() + 10 * 60_000),
        critical: false,
      });
    }
  }

  const monthOf = (instant: Date) => periodContaining('monthly', instant, timeZone).key;
  return {
    from: month(0).toJSDate(),
    asOf,
    timeZone,
    months: monthStarts.map((_, index) => key(index)),
    auditLogGap: {
      start: gapStart,
      end: new Date(gapStart.getTime() + 4.5 * HOUR),
      monthKey: monthOf(gapStart),
    },
    rotations,
    secretOverdueMonths: [key(5), key(6)],
    secretRotatedMonth: key(7),
    restores,
    restoreFailedMonth: key(9),
    scans,
  };
}
