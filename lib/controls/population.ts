/**
 * Populations: every occurrence a control covers in its period (accounts, rotations, restores,
 * findings, events), written by the run as JSON Lines beside its evidence and listed, with where it
 * came from, in the run's signed manifest, so an auditor can test a sample of it.
 */

/** One occurrence; `id` is stable across runs over the same data (an account name, a job id). */
export interface PopulationItem {
  readonly id: string;
  readonly [field: string]: unknown;
}

/** What a control test declares it can write; `name` is a slug, unique within the test. */
export interface PopulationDeclaration {
  readonly name: string;
  /** One sentence: what one item is, e.g. "an account that exists at the end of the period". */
  readonly description: string;
}

/** The database a SQL population was read from; never the host, port, user or password. */
export interface DatabaseIdentity {
  /** `system_identifier` from `pg_control_system()`; null when the role may not call it. */
  readonly systemIdentifier: string | null;
  readonly serverVersion: string;
  readonly databaseName: string;
  /** Why `systemIdentifier` is null, when it is. */
  readonly systemIdentifierError?: string;
}

/** How a population was obtained, recorded in the signed manifest. */
export type PopulationProvenance =
  | {
      readonly source: 'sql';
      readonly target: string;
      readonly database: DatabaseIdentity;
      /** The query as sent (whitespace collapsed), and the SHA-256 of that text. */
      readonly query: string;
      readonly querySha256: string;
      readonly params: readonly unknown[];
      readonly executedAt: string;
      readonly durationMs: number;
    }
  | {
      /** Derived from API reads recorded in the run's evidence (`result.json` checks). */
      readonly source: 'api';
      readonly service: string;
      readonly operation: string;
      /** The request parameters that bound the read (a prefix, a date range, a secret id). */
      readonly request: unknown;
      readonly executedAt: string;
    };

/** A population is cut at this many items unless the config says otherwise. */
export const DEFAULT_POPULATION_CAP = 1_000_000;

/** What the writer hands back for one written population; it joins the manifest. */
export interface WrittenPopulation {
  readonly name: string;
  readonly description: string;
  readonly key: string;
  readonly contentType: string;
  readonly size: number;
  /** Items written (lines in the file). */
  readonly rows: number;
  /** SHA-256 of the canonical content: the file's bytes, one canonical JSON object per line. */
  readonly sha256: string;
  /** The configured limit, and whether the source had more items than were written. */
  readonly cap: { readonly limit: number; readonly reached: boolean };
  readonly provenance: PopulationProvenance;
}

/**
 * Where a running test writes its populations (the run's folder in the evidence bucket). Items are
 * consumed as they come (a cursor), hashed and uploaded while streamed, so memory stays bounded.
 */
export interface PopulationSink {
  write(
    declaration: PopulationDeclaration,
    provenance: PopulationProvenance | (() => PopulationProvenance),
    items: AsyncIterable<PopulationItem> | Iterable<PopulationItem>,
  ): Promise<WrittenPopulation>;
}

/** The sink of one run, and what it wrote once the run is over. */
export interface PopulationSession {
  readonly sink: PopulationSink;
  /** Closes the sink (later writes fail, uploads in flight are abandoned) and lists what landed. */
  close(): readonly WrittenPopulation[];
}

/** Thrown when a test writes a population it did not declare, or writes one twice. */
export class PopulationDeclarationError extends Error {
  override name = 'PopulationDeclarationError';
}

const POPULATION_NAME = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** Checks a test's declarations: slug names, none repeated, none `runs` (every control has that one). */
export function checkDeclarations(
  type: string,
  declarations: readonly PopulationDeclaration[],
): readonly PopulationDeclaration[] {
  const seen = new Set<string>();
  for (const declaration of declarations) {
    if (!POPULATION_NAME.test(declaration.name))
      throw new PopulationDeclarationError(`${type}: population name "${declaration.name}" is not a slug`);
    if (declaration.name === RUNS_POPULATION)
      throw new PopulationDeclarationError(`${type}: "${RUNS_POPULATION}" is every control's own population`);
    if (seen.has(declaration.name))
      throw new PopulationDeclarationError(`${type}: population "${declaration.name}" declared twice`);
    seen.add(declaration.name);
  }
  return declarations;
}

/**
 * Every control's runs in a range (period, verdict, manifest). Not written by a run (a run cannot
 * list its own manifest, which is signed after it); it is derived from the signed manifest chain.
 */
export const RUNS_POPULATION = 'runs';

/** Writes an in-memory list (already complete) through the sink, ordered by id. */
export function sortedById<T extends PopulationItem>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
