import { createHash } from 'node:crypto';
import { type Readable, Readable as ReadableStream, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ZipFile } from 'yazl';
import { sha256Hex } from '../evidence/canonical-json.ts';
import { type DateRange, periodInRange } from '../evidence/coverage.ts';
import { MANIFEST_FILE, PUBLIC_KEYS_PREFIX, parseEvidenceKey } from '../evidence/evidence-layout.ts';
import { EVIDENCE_PREFIX } from '../evidence/evidence-recorder.ts';
import { type Manifest, parseManifest } from '../evidence/manifest.ts';
import { CADENCES, type Cadence, periodContaining, periodFromKey } from '../periods/period.ts';
import { TOOL_VERSION } from '../version.ts';
import type { EvidenceReader, StoredObject } from './evidence-reader.ts';
import { EXPORT_INFO_FILE, EXPORT_INFO_KIND, type ExportInfo } from './export-info.ts';
import { buildExportModel, type ExportedRun, type ExportModel } from './export-model.ts';
import { renderIndexHtml } from './index-html.ts';
import { buildAssessmentResults } from './oscal-assessment-results.ts';
import { renderVerifyGuide } from './verify-guide.ts';

export interface ExportProgress {
  readonly objects: number;
  readonly totalObjects: number;
  readonly bytes: number;
}

export interface ExportRequest {
  readonly reader: EvidenceReader;
  /** Named in the archive's reports; the reader already points at it. */
  readonly bucket: string;
  readonly range: DateRange;
  /** Only this control. */
  readonly controlId?: string;
  /** Where the zip goes (a file, an upload, a socket); ended when the archive is complete. */
  readonly output: Writable;
  /**
   * More generated files for the archive, path -> JSON value (or text), e.g. the risk register's
   * `oscal/poam.json`. Listed with their hashes in export.json like the other reports.
   */
  readonly extraFiles?: Readonly<Record<string, unknown>>;
  /** Objects fetched ahead of the zip writer. @default 16 */
  readonly concurrency?: number;
  /** Deflate level 1-9 (evidence JSON shrinks ~10x); 0 stores entries uncompressed. @default 6 */
  readonly compressionLevel?: number;
  readonly onProgress?: (progress: ExportProgress) => void;
  readonly clock?: () => Date;
}

export interface ExportResult {
  readonly exportedAt: string;
  readonly controls: number;
  readonly manifests: number;
  /** Evidence objects copied (artifacts, manifests, signatures, public keys). */
  readonly evidenceObjects: number;
  readonly evidenceBytes: number;
  /** Run folders with files but no manifest (a run that stopped before sealing); not exported. */
  readonly unsealedFolders: number;
  readonly reports: ExportInfo['reports'];
  readonly model: ExportModel;
}

export class ExportError extends Error {
  override name = 'ExportError';
}

interface RunFolder {
  readonly prefix: string;
  readonly cadence: Cadence;
  readonly periodKey: string;
  readonly files: StoredObject[];
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** Entries queued in the zip but not yet written: the producer waits beyond this (bounded memory). */
const MAX_PENDING_ENTRIES = 256;

/** Period keys sort in time order within a cadence, so a key range bounds the listing. */
function keyBounds(cadence: Cadence, range: DateRange): { low?: string; high?: string } {
  // Three days of slack either side covers any time zone; exact membership is decided per manifest.
  const low = range.from
    ? periodContaining(cadence, new Date(Date.parse(`${range.from}T00:00:00Z`) - 3 * DAY_MS), 'UTC').key
    : undefined;
  const high = range.to
    ? periodContaining(cadence, new Date(Date.parse(`${range.to}T00:00:00Z`) + 3 * DAY_MS), 'UTC').key
    : undefined;
  return { ...(low ? { low } : {}), ...(high ? { high } : {}) };
}

async function listRunFolders(
  reader: EvidenceReader,
  range: DateRange,
  controlId?: string,
): Promise<RunFolder[]> {
  const controlPrefixes = controlId
    ? [`${EVIDENCE_PREFIX}${controlId}/`]
    : (await reader.listFolders(EVIDENCE_PREFIX)).filter((prefix) => prefix !== PUBLIC_KEYS_PREFIX);
  const folders: RunFolder[] = [];
  for (const controlPrefix of controlPrefixes) {
    for (const cadencePrefix of await reader.listFolders(controlPrefix)) {
      const cadence = cadencePrefix.slice(controlPrefix.length, -1) as Cadence;
      if (!CADENCES.includes(cadence)) continue;
      const { low, high } = keyBounds(cadence, range);
      let current: RunFolder | undefined;
      for await (const object of reader.listObjects(
        cadencePrefix,
        low ? `${cadencePrefix}${low}` : undefined,
      )) {
        const location = parseEvidenceKey(object.key);
        if (location?.kind !== 'run-file') continue;
        if (low && location.periodKey < low) continue;
        if (high && location.periodKey > high) break;
        if (current?.prefix !== location.runPrefix) {
          current = { prefix: location.runPrefix, cadence, periodKey: location.periodKey, files: [] };
          folders.push(current);
        }
        current.files.push(object);
      }
    }
  }
  return folders;
}

/** Starts GetObject calls a few entries ahead of the zip writer; bodies wait, paused, until their turn. */
class Prefetcher {
  readonly #keys: string[] = [];
  readonly #started = new Map<number, Promise<Readable>>();
  #next = 0;
  constructor(
    private readonly reader: EvidenceReader,
    private readonly window: number,
  ) {}

  add(key: string): number {
    this.#keys.push(key);
    this.#fill();
    return this.#keys.length - 1;
  }

  take(index: number): Promise<Readable> {
    const started = this.#started.get(index) ?? this.#start(index);
    this.#started.delete(index);
    this.#next = Math.max(this.#next, index + 1);
    this.#fill();
    return started;
  }

  close(): void {
    for (const pending of this.#started.values())
      pending.then(
        (stream) => stream.destroy(),
        () => {},
      );
    this.#started.clear();
  }

  #start(index: number): Promise<Readable> {
    const promise = this.reader.getStream(this.#keys[index] as string);
    promise.catch(() => {}); // surfaced by take()
    return promise;
  }

  #fill(): void {
    const end = Math.min(this.#keys.length, this.#next + this.window);
    for (let index = this.#next; index < end; index += 1) {
      if (!this.#started.has(index)) this.#started.set(index, this.#start(index));
    }
  }
}

function reportBytes(value: unknown): Buffer {
  return Buffer.from(typeof value === 'string' ? value : `${JSON.stringify(value, null, 2)}\n`, 'utf8');
}

/**
 * Streams one zip of all evidence for a date range: each run's manifest, signature and artifacts,
 * the public keys, then `index.html`, `oscal/assessment-results.json`, `VERIFY.md`, any extra
 * files, and `export.json`. Object bodies flow from S3 into the zip a few at a time, so memory stays
 * flat whatever the number of objects; only the manifests' summaries are kept for the reports.
 */
export async function exportArchive(request: ExportRequest): Promise<ExportResult> {
  const { reader, range } = request;
  const clock = request.clock ?? (() => new Date());
  const exportedAt = clock();
  const concurrency = Math.max(1, request.concurrency ?? 16);
  const compressionLevel = Math.min(9, Math.max(0, request.compressionLevel ?? 6));

  const folders = await listRunFolders(reader, range, request.controlId);
  const publicKeys: StoredObject[] = [];
  for await (const object of reader.listObjects(PUBLIC_KEYS_PREFIX)) {
    if (parseEvidenceKey(object.key)?.kind === 'public-key') publicKeys.push(object);
  }
  // An upper bound until each manifest says whether its run is in range; lowered as runs are skipped.
  let totalObjects = publicKeys.length + folders.reduce((sum, folder) => sum + folder.files.length, 0);

  const zip = new ZipFile();
  const written = pipeline(zip.outputStream, request.output);
  written.catch(() => {});
  let zipError: unknown;
  let wake: (() => void) | undefined;
  zip.on('error', (error: unknown) => {
    zipError = error;
    wake?.();
    request.output.destroy(error instanceof Error ? error : new Error(String(error)));
  });

  const prefetcher = new Prefetcher(reader, concurrency);
  let added = 0;
  let consumed = 0;
  let consumedBytes = 0;
  let evidenceObjects = 0;
  let evidenceBytes = 0;
  const onConsumed = (size: number) => {
    consumed += 1;
    request.onProgress?.({ objects: Math.max(0, consumed - 1), totalObjects, bytes: consumedBytes });
    consumedBytes += size;
    wake?.();
  };
  const waitForRoom = async () => {
    while (added - consumed > MAX_PENDING_ENTRIES && zipError === undefined) {
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = undefined;
    }
    if (zipError !== undefined) throw new ExportError('writing the archive failed', { cause: zipError });
  };
  const addEntry = (name: string, size: number, mtime: Date, open: () => Promise<Readable>) => {
    added += 1;
    evidenceObjects += 1;
    evidenceBytes += size;
    zip.addReadStreamLazy(name, { mtime, compressionLevel, size }, (callback) => {
      onConsumed(size);
      open().then(
        (stream) => callback(null, stream),
        (error: unknown) =>
          callback(error instanceof Error ? error : new Error(String(error)), null as unknown as Readable),
      );
    });
  };
  const addObject = (object: StoredObject, mtime: Date) => {
    const index = prefetcher.add(object.key);
    addEntry(object.key, object.size, mtime, () => prefetcher.take(index));
  };

  const runs: ExportedRun[] = [];
  let unsealedFolders = 0;
  try {
    for (const key of publicKeys) addObject(key, exportedAt);

    // Manifests are read a window ahead, in order; each decides whether its run is in range.
    const sealed = folders.filter((folder) =>
      folder.files.some((file) => file.key === `${folder.prefix}${MANIFEST_FILE}`),
    );
    unsealedFolders = folders.length - sealed.length;
    const sealedSet = new Set(sealed);
    for (const folder of folders) if (!sealedSet.has(folder)) totalObjects -= folder.files.length;
    const fetchManifest = (folder: RunFolder) => reader.getBytes(`${folder.prefix}${MANIFEST_FILE}`);
    const inFlight: Promise<Buffer>[] = [];
    let nextFetch = 0;
    for (const folder of sealed) {
      while (inFlight.length < concurrency && nextFetch < sealed.length) {
        const promise = fetchManifest(sealed[nextFetch] as RunFolder);
        promise.catch(() => {});
        inFlight.push(promise);
        nextFetch += 1;
      }
      const bytes = await (inFlight.shift() as Promise<Buffer>);
      let manifest: Manifest | undefined;
      try {
        manifest = parseManifest(bytes);
      } catch {
        manifest = undefined;
      }
      const inRange = manifest
        ? periodInRange(manifest.period, range)
        : periodInRange(periodFromKey(folder.cadence, folder.periodKey, 'UTC'), range);
      if (!inRange) {
        totalObjects -= folder.files.length;
        continue;
      }
      await waitForRoom();
      const manifestKey = `${folder.prefix}${MANIFEST_FILE}`;
      const mtime = manifest ? new Date(manifest.collectedAt) : exportedAt;
      addEntry(manifestKey, bytes.length, mtime, async () => ReadableStream.from([bytes]));
      for (const file of folder.files) if (file.key !== manifestKey) addObject(file, mtime);
      if (manifest) runs.push({ manifestKey, manifestSha256: sha256Hex(bytes), manifest });
    }

    const model = buildExportModel(runs, { range, exportedAt, bucket: request.bucket });
    const keyFingerprints = [...new Set(runs.map((run) => run.manifest.signing.keyFingerprint))];
    const generated: [string, Buffer][] = [
      ['index.html', Buffer.from(renderIndexHtml(model), 'utf8')],
      ['oscal/assessment-results.json', reportBytes(buildAssessmentResults(model))],
      [
        'VERIFY.md',
        Buffer.from(
          renderVerifyGuide({
            range,
            exportedAt: exportedAt.toISOString(),
            bucket: request.bucket,
            keyFingerprints,
          }),
          'utf8',
        ),
      ],
      ...Object.entries(request.extraFiles ?? {}).map(([path, value]): [string, Buffer] => [
        path,
        reportBytes(value),
      ]),
    ];
    const reports: ExportInfo['reports'] = [];
    for (const [path, bytes] of generated) {
      if (path.startsWith(EVIDENCE_PREFIX) || path === EXPORT_INFO_FILE) {
        throw new ExportError(`extra file ${path} would collide with the evidence or export.json`);
      }
      zip.addBuffer(bytes, path, { mtime: exportedAt, compressionLevel });
      reports.push({ path, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });
    }
    const info: ExportInfo = {
      kind: EXPORT_INFO_KIND,
      schemaVersion: 1,
      tool: { name: 'soc2-evidence', version: TOOL_VERSION },
      exportedAt: exportedAt.toISOString(),
      range: { ...(range.from ? { from: range.from } : {}), ...(range.to ? { to: range.to } : {}) },
      ...(request.controlId ? { controlId: request.controlId } : {}),
      bucket: request.bucket,
      counts: { controls: model.rows.length, manifests: runs.length, evidenceObjects, evidenceBytes },
      reports,
    };
    zip.addBuffer(reportBytes(info), EXPORT_INFO_FILE, { mtime: exportedAt, compressionLevel });
    zip.end();
    await written;
    if (zipError !== undefined) throw new ExportError('writing the archive failed', { cause: zipError });
    request.onProgress?.({ objects: totalObjects, totalObjects, bytes: consumedBytes });
    return {
      exportedAt: exportedAt.toISOString(),
      controls: model.rows.length,
      manifests: runs.length,
      evidenceObjects,
      evidenceBytes,
      unsealedFolders,
      reports,
      model,
    };
  } catch (error) {
    prefetcher.close();
    (zip.outputStream as Readable).destroy();
    request.output.destroy();
    if (error instanceof ExportError) throw error;
    throw new ExportError(`export failed: ${(error as Error).message}`, { cause: error });
  }
}
