import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A file shipped at the root of the soc2-evidence package (the example config and register the
 * demo seeds its data for). Found by walking up from this module, which sits at lib/cli/ in a
 * checkout and in dist/cli/ (or a chunk under it) in the installed package.
 */
export function packageFile(name: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && isThisPackage(manifest)) return join(dir, name);
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`the soc2-evidence package root (with ${name}) was not found`);
    dir = parent;
  }
}

function isThisPackage(manifest: string): boolean {
  try {
    return (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === 'soc2-evidence';
  } catch {
    return false;
  }
}
