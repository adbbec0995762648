import { readFileSync } from 'node:fs';

declare const __SOC2_EVIDENCE_VERSION__: string | undefined;

function readPackageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** Recorded in every evidence document. Lambda bundles get it injected at build time (esbuild `define`). */
export const TOOL_VERSION: string =
  typeof __SOC2_EVIDENCE_VERSION__ === 'string' ? __SOC2_EVIDENCE_VERSION__ : readPackageVersion();
