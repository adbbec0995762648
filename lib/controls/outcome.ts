/** The vocabulary of a control test's result, shared by tests, runs, evidence and reports. */
export const VERDICTS = ['pass', 'fail', 'error'] as const;
/** `error` means "could not check": never a pass, always notified. */
export type Verdict = (typeof VERDICTS)[number];

export type Figure = number | string | boolean | null;

/** What one control test concluded for one period. */
export interface ControlOutcome {
  readonly verdict: Verdict;
  /** Why the verdict is `fail` or `error`, one sentence each; empty for `pass`. */
  readonly reasons: readonly string[];
  /** Things an owner should know that do not fail the control (e.g. a secret nearing its maximum age). */
  readonly warnings: readonly string[];
  /** Headline numbers, stored with the verdict and shown in tables. */
  readonly figures: Readonly<Record<string, Figure>>;
  /** Test-specific, JSON-serialisable evidence (gaps, per-secret ages, per-table counts...). */
  readonly details: unknown;
}

/** One thing a test looked at, kept verbatim in the evidence so an auditor can re-run it. */
export type EvidenceEntry =
  | {
      readonly kind: 'sql';
      readonly label: string;
      readonly target: string;
      readonly text: string;
      readonly params: readonly unknown[];
      readonly rows: readonly unknown[];
      /** Set for a streamed query: how many rows it yielded (they went to a population, not here). */
      readonly rowsStreamed?: number;
      readonly startedAt: string;
      readonly durationMs: number;
      /** Why the query failed, when it did: the failure is evidence too. */
      readonly error?: string;
    }
  | {
      readonly kind: 'api';
      readonly label: string;
      readonly service: string;
      readonly operation: string;
      readonly request: unknown;
      readonly response: unknown;
      readonly at: string;
    }
  | {
      readonly kind: 'object';
      readonly label: string;
      readonly key: string;
      readonly sha256: string;
      readonly at: string;
    };

/** Collects what a test examined while it runs; the use case writes it to the evidence artifact. */
export class EvidenceLog {
  readonly #entries: EvidenceEntry[] = [];
  add(entry: EvidenceEntry): void {
    this.#entries.push(entry);
  }
  get entries(): readonly EvidenceEntry[] {
    return this.#entries;
  }
}

/**
 * The one place a verdict is derived from reasons: any `errors` (the check could not see what it
 * must) make it `error`, else any `reasons` make it `fail`, else `pass`. Errors are listed first.
 */
export function outcome(
  parts: Pick<ControlOutcome, 'figures' | 'details'> & {
    errors?: readonly string[];
    reasons?: readonly string[];
    warnings?: readonly string[];
  },
): ControlOutcome {
  const errors = parts.errors ?? [];
  const reasons = parts.reasons ?? [];
  return {
    verdict: errors.length > 0 ? 'error' : reasons.length > 0 ? 'fail' : 'pass',
    reasons: [...errors, ...reasons],
    warnings: parts.warnings ?? [],
    figures: parts.figures,
    details: parts.details,
  };
}

export function errorOutcome(reason: string, details: unknown = null): ControlOutcome {
  return { verdict: 'error', reasons: [reason], warnings: [], figures: {}, details };
}

/** Thrown by a test (or its ports) when it could not check; becomes an `error` verdict. */
export class ControlCheckError extends Error {
  override name = 'ControlCheckError';
}
