import { EXPORT_INFO_FILE, type ExportInfo, exportInfoSchema } from '../export/export-info.ts';
import type { ArchiveFile } from './archive-file.ts';
import type { Finding } from './findings.ts';

export interface ExportInfoPhase {
  /** Present when the archive holds a valid `export.json`. */
  readonly exportInfo?: ExportInfo;
  /** True when `export.json` is in the archive (valid or not): it is accounted for either way. */
  readonly present: boolean;
  readonly problems: readonly Finding[];
}

/** Phase 2: `export.json`, the range the archive claims to cover and the reports it carries. */
export function readExportInfo(files: ReadonlyMap<string, ArchiveFile>): ExportInfoPhase {
  const infoFile = files.get(EXPORT_INFO_FILE);
  if (!infoFile) return { present: false, problems: [] };
  try {
    const exportInfo = exportInfoSchema.parse(JSON.parse(infoFile.content?.toString('utf8') ?? ''));
    return { exportInfo, present: true, problems: [] };
  } catch {
    return {
      present: true,
      problems: [
        {
          code: 'export-info-invalid',
          file: EXPORT_INFO_FILE,
          message: `${EXPORT_INFO_FILE} is not a valid export description`,
        },
      ],
    };
  }
}
