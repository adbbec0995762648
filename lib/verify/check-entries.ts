import type { ArchiveContents } from './archive-file.ts';
import type { Finding } from './findings.ts';

/** Phase 1: entries the readers flagged (symlinks and devices in a folder, names repeated in a zip). */
export function checkEntries(contents: Pick<ArchiveContents, 'irregular' | 'duplicates'>): Finding[] {
  const problems: Finding[] = [];
  for (const name of contents.irregular ?? []) {
    problems.push({
      code: 'unexpected-file',
      file: name,
      message: `${name}: unexpected entry, not a regular file (a symlink or device); not checked`,
    });
  }
  for (const name of contents.duplicates ?? []) {
    problems.push({
      code: 'duplicate-entry',
      file: name,
      message: `${name} occurs more than once in the archive; only one copy can be checked`,
    });
  }
  return problems;
}
