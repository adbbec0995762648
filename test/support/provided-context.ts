// What the integration project's global setup hands to every worker (`provide` -> `inject`).
declare module 'vitest' {
  export interface ProvidedContext {
    /** Superuser URL of the run's one PostgreSQL server; each test file creates its own database on it. */
    sharedPostgresUrl: string;
  }
}

export {};
