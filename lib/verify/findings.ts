/** Everything `verify` can find wrong, one code per kind of tampering or gap. */
export type ProblemCode =
  | 'artifact-missing'
  | 'artifact-altered'
  | 'artifact-outside-run'
  | 'manifest-unreadable'
  | 'manifest-misplaced'
  | 'manifest-missing'
  | 'manifest-replaced'
  | 'manifest-resigned'
  | 'chain-broken'
  | 'period-missing'
  | 'chain-truncated'
  | 'signature-missing'
  | 'signature-invalid'
  | 'key-unknown'
  | 'key-invalid'
  | 'key-changed'
  | 'key-untrusted'
  | 'unexpected-file'
  | 'duplicate-entry'
  | 'report-altered'
  | 'report-missing'
  | 'export-info-invalid'
  | 'checkpoint-missing'
  | 'checkpoint-invalid'
  | 'checkpoint-stale'
  | 'orphan-conflict'
  | 'population-altered'
  | 'population-unlisted'
  | 'population-count-mismatch';

/** Findings that are worth telling but do not fail verification. */
export type NoteCode =
  | 'orphan-manifest'
  | 'unused-key'
  | 'chain-before-range'
  | 'chain-outside-range'
  | 'unsealed-run';

export interface Finding {
  readonly code: ProblemCode | NoteCode;
  /** The file the finding is about (bucket key form). */
  readonly file?: string;
  readonly controlId?: string;
  readonly periodKey?: string;
  /** One sentence: what is wrong and what it means. */
  readonly message: string;
}

/** What each phase of the verifier hands back besides its own data: its problems and notes, in order. */
export interface PhaseFindings {
  readonly problems: readonly Finding[];
  readonly notes: readonly Finding[];
}

export const short = (fingerprint: string) => `${fingerprint.slice(0, 16)}…`;

export function describePeriods(keys: readonly string[]): string {
  return keys.length <= 6
    ? keys.join(', ')
    : `${keys.slice(0, 3).join(', ')} … ${keys.slice(-2).join(', ')} (${keys.length})`;
}
