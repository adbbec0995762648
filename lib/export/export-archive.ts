import { createHash } from 'node:crypto';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CHECKPOINTS_PREFIX, checkpointKey, parseCheckpointKey } from '../evidence/checkpoint.ts';
import { type DateRange, periodInRange } from '../evidence/coverage.ts';
import { MANIFEST_FILE, PUBLIC_KEYS_PREFIX, parseEvidenceKey } from '../evidence/evidence-layout.ts';
import { EVIDENCE_PREFIX } from '../evidence/evidence-recorder.ts';
import { type Manifest, parseManifest } from '../evidence/manifest.ts';
import { sha256Hex } from '../shared/canonical-json.ts';
import { CADENCES, type Cadence, periodContaining, periodFromKey } from '../shared/period.ts';
import { TOOL_VERSION } from '../shared/version.ts';
import {
  type ArchiveAccess,
  type ArchivedCandidate,
  findArchived,
  isArchiveStorageClass,
  type RestorePlan,
  settleArchived,
} from './archived-evidence.ts';
import type { EvidenceReader, StoredObject } from './evidence-reader.ts';
import { EXPORT_INFO_FILE, EXPORT_INFO_KIND, type ExportInfo } from './export-info.ts';
import { type CellStatus, type ReportSource, reportSource, summarizeRun } from './export-model.ts';
import { generatedReports } from './generated-reports.ts';
import {
  REPORT_INPUTS_FILE,
  type ReportConfig,
  reportInputsFromConfig,
  serializeReportInputs,
} from './report-inputs.ts';
import { RunSpill } from './run-spill.ts';
import { isSignOffRun, type SignOffEvidence, signOffArtifact } from './sign-offs.ts';
import { type PreparedData, prepareData, type ZipEntry, zipStream } from './zip-writer.ts';

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
  /**
   * The configuration the audit views are computed from (criteria coverage, readiness, the risk
   * heat map and the OSCAL POA&M); written as `report-inputs.json` so `verify` recomputes them.
   * Without it the archive has the control matrix, the OSCAL results and the sign-offs only.
   */
  readonly config?: ReportConfig;
  /** Objects fetched ahead of the zip writer. @default 16 */
  readonly concurrency?: number;
  /** Deflate level 1-9 (evidence JSON shrinks ~10x); 0 stores entries uncompressed. @default 6 */
  readonly compressionLevel?: number;
  readonly onProgress?: (progress: ExportProgress) => void;
  readonly clock?: () => Date;
  /**
   * Checks the objects the listing shows archived (GLACIER, DEEP_ARCHIVE) before anything is written,
   * and fails with `ArchivedEvidenceError` or `RestorePendingError` unless every one has a readable
   * restored copy. Without it an archived object fails the export when its turn comes.
   */
  readonly archive?: ArchiveAccess;
  /** With `archive`: ask S3 to restore what is archived (then `RestorePendingError`: come back later). */
  readonly restore?: RestorePlan;
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
  /** Control-periods by status, as index.html and the OSCAL findings show them. */
  readonly counts: Readonly<Record<CellStatus, number>>;
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

/** Every run folder in range, streamed in key order (nothing is held but the current folder). */
async function* runFolders(
  reader: EvidenceReader,
  range: DateRange,
  controlId?: string,
): AsyncGenerator<RunFolder> {
  const controlPrefixes = controlId
    ? [`${EVIDENCE_PREFIX}${controlId}/`]
    : (await reader.listFolders(EVIDENCE_PREFIX)).filter((prefix) => prefix !== PUBLIC_KEYS_PREFIX);
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
          if (current) yield current;
          current = { prefix: location.runPrefix, cadence, periodKey: location.periodKey, files: [] };
        }
        current.files.push(object);
      }
      if (current) yield current;
    }
  }
}

/**
 * Whether the run's period, as its folder names it, is in range: its manifest (which decides during
 * the export) may be archived itself, and a legitimate folder names its manifest's period.
 */
function folderMayBeInRange(folder: RunFolder, range: DateRange): boolean {
  try {
    return periodInRange(periodFromKey(folder.cadence, folder.periodKey, 'UTC'), range);
  } catch {
    return true;
  }
}

/** A run folder the listing's slack brought in whose manifest is archived and whose period is out of range. */
function archivedOutOfRange(folder: RunFolder, range: DateRange): boolean {
  const manifest = folder.files.find((file) => file.key === `${folder.prefix}${MANIFEST_FILE}`);
  return isArchiveStorageClass(manifest?.storageClass) && !folderMayBeInRange(folder, range);
}

const isSealed = (folder: RunFolder) =>
  folder.files.some((file) => file.key === `${folder.prefix}${MANIFEST_FILE}`);

function reportText(value: unknown): string {
  return typeof value === 'string' ? value : `${JSON.stringify(value, null, 2)}\n`;
}

/** Rendered text as ~64 KB buffers, hashing as it goes; `done` gets the size and SHA-256 at the end. */
async function* encodeChunks(
  chunks: () => AsyncIterable<string> | Iterable<string>,
  done: (size: number, sha256: string) => void,
): AsyncGenerator<Buffer> {
  const hash = createHash('sha256');
  let size = 0;
  let pending: string[] = [];
  let pendingLength = 0;
  const flush = () => {
    const buffer = Buffer.from(pending.join(''), 'utf8');
    pending = [];
    pendingLength = 0;
    hash.update(buffer);
    size += buffer.length;
    return buffer;
  };
  for await (const chunk of chunks()) {
    pending.push(chunk);
    pendingLength += chunk.length;
    if (pendingLength >= 64 * 1024) yield flush();
  }
  if (pendingLength > 0) yield flush();
  done(size, hash.digest('hex'));
}

/** An archive entry whose S3 body can be requested before the writer reaches it. */
interface PlannedEntry extends ZipEntry {
  prefetch?(): void;
  discard?(): void;
}

/** Objects up to this size are read whole and compressed ahead of the writer; larger ones stream. */
const PREPARE_LIMIT = 256 * 1024;

function objectEntry(reader: EvidenceReader, object: StoredObject, mtime: Date, level: number): PlannedEntry {
  let body: Promise<Readable | PreparedData> | undefined;
  const start = () =>
    object.size <= PREPARE_LIMIT
      ? reader.getBytes(object.key).then((bytes) => prepareData(bytes, level))
      : reader.getStream(object.key);
  return {
    name: object.key,
    mtime,
    size: object.size,
    prefetch() {
      body ??= start();
      body.catch(() => {}); // surfaced by open()
    },
    open() {
      body ??= start();
      return body;
    },
    discard() {
      body?.then(
        (data) => (data instanceof Readable ? data.destroy() : undefined),
        () => {},
      );
    },
  };
}

function bytesEntry(name: string, bytes: Buffer, mtime: Date, level: number): PlannedEntry {
  let prepared: Promise<PreparedData> | undefined;
  return {
    name,
    mtime,
    size: bytes.length,
    prefetch() {
      prepared ??= prepareData(bytes, level);
    },
    open() {
      prepared ??= prepareData(bytes, level);
      return prepared;
    },
  };
}

/**
 * Keeps `window` entries started ahead of the consumer, so S3 round trips overlap with writing;
 * bodies wait, paused by TCP flow control, until their turn. Unconsumed bodies are released if the
 * consumer stops early.
 */
async function* lookahead(source: AsyncIterable<PlannedEntry>, window: number): AsyncGenerator<PlannedEntry> {
  const queue: PlannedEntry[] = [];
  const iterator = source[Symbol.asyncIterator]();
  let exhausted = false;
  try {
    for (;;) {
      while (!exhausted && queue.length < window) {
        const next = await iterator.next();
        if (next.done) exhausted = true;
        else {
          next.value.prefetch?.();
          queue.push(next.value);
        }
      }
      const entry = queue.shift();
      if (!entry) return;
      yield entry;
    }
  } finally {
    for (const entry of queue) entry.discard?.();
    await iterator.return?.();
  }
}

/** Rendered text as a buffer entry that records its size and hash once written. */
function reportEntry(
  name: string,
  mtime: Date,
  chunks: () => AsyncIterable<string> | Iterable<string>,
  record: (size: number, sha256: string) => void,
): ZipEntry {
  return {
    name,
    mtime,
    open: () => Readable.from(encodeChunks(chunks, record)),
  };
}

/**
 * Streams one zip of all evidence for a date range: each run's manifest, signature and artifacts,
 * the public keys, then `report-inputs.json` (with a config), the generated reports (`index.html`,
 * `oscal/assessment-results.json`, `VERIFY.md`, `sign-offs.json`, and with a config `coverage.json`,
 * `readiness.json`, `risk-heat-map.json`, `oscal/poam.json`), any extra files, and `export.json`. Object bodies flow from S3 into the zip a few at a time and the runs'
 * summaries wait on disk for the reports, so memory stays flat whatever the number of objects.
 */
export async function exportArchive(request: ExportRequest): Promise<ExportResult> {
  const { reader, range } = request;
  const clock = request.clock ?? (() => new Date());
  const exportedAt = clock();
  const concurrency = Math.max(1, request.concurrency ?? 16);
  const level = Math.min(9, Math.max(0, request.compressionLevel ?? 6));

  const fixedObjects: StoredObject[] = [];
  for await (const object of reader.listObjects(PUBLIC_KEYS_PREFIX)) {
    if (parseEvidenceKey(object.key)?.kind === 'public-key') fixedObjects.push(object);
  }
  // Every signed checkpoint from the range's first day on (a day early, for any time zone): they
  // say which controls, chains and manifests must be in the archive. A handful of KB each.
  const checkpoints: StoredObject[] = [];
  const since = range.from
    ? checkpointKey(new Date(Date.parse(`${range.from}T00:00:00Z`) - DAY_MS))
    : undefined;
  for await (const object of reader.listObjects(CHECKPOINTS_PREFIX, since)) {
    if (parseCheckpointKey(object.key)) checkpoints.push(object);
  }
  fixedObjects.push(...checkpoints);
  // A first, counting pass over the listing (cheap next to the GETs) gives the progress bar its
  // total without holding the listing; the upper bound drops as runs turn out to be out of range.
  let unsealedFolders = 0;
  let totalObjects = fixedObjects.length;
  // The same pass notes what the listing shows archived, to settle before anything is written.
  const archiveCandidates: ArchivedCandidate[] = fixedObjects
    .filter((object) => isArchiveStorageClass(object.storageClass))
    .map((object) => ({
      ...object,
      role: object.key.startsWith(PUBLIC_KEYS_PREFIX) ? 'public-key' : 'checkpoint',
    }));
  for await (const folder of runFolders(reader, range, request.controlId)) {
    if (!isSealed(folder)) {
      unsealedFolders += 1;
      continue;
    }
    totalObjects += folder.files.length;
    const archivedFiles = folder.files.filter((file) => isArchiveStorageClass(file.storageClass));
    if (archivedFiles.length > 0 && folderMayBeInRange(folder, range)) {
      archiveCandidates.push(...archivedFiles.map((file) => ({ ...file, role: 'evidence' as const })));
    }
  }
  if (request.archive) {
    await settleArchived(
      await findArchived(archiveCandidates, request.archive),
      request.archive,
      request.restore,
    );
  }
  const spill = await RunSpill.create();
  let evidenceObjects = 0;
  let evidenceBytes = 0;
  let written = 0;
  let writtenBytes = 0;

  const signOffs: SignOffEvidence[] = [];
  async function* evidence(): AsyncGenerator<PlannedEntry> {
    for (const key of fixedObjects) yield objectEntry(reader, key, exportedAt, level);
    // Manifests are read a window ahead, in order; each decides whether its run is in range.
    const inFlight: { folder: RunFolder; bytes: Promise<Buffer> }[] = [];
    const folders = runFolders(reader, range, request.controlId);
    let listed = false;
    for (;;) {
      while (!listed && inFlight.length < concurrency) {
        const next = await folders.next();
        if (next.done) {
          listed = true;
          break;
        }
        if (!isSealed(next.value)) continue;
        if (archivedOutOfRange(next.value, range)) {
          // Listed for its time-zone slack only: its archived manifest is not read (nor restored).
          totalObjects -= next.value.files.length;
          continue;
        }
        const bytes = reader.getBytes(`${next.value.prefix}${MANIFEST_FILE}`);
        bytes.catch(() => {});
        inFlight.push({ folder: next.value, bytes });
      }
      const pending = inFlight.shift();
      if (!pending) break;
      const { folder } = pending;
      const bytes = await pending.bytes;
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
      const manifestKey = `${folder.prefix}${MANIFEST_FILE}`;
      const mtime = manifest ? new Date(manifest.collectedAt) : exportedAt;
      const manifestSha256 = sha256Hex(bytes);
      if (manifest) spill.append(summarizeRun(manifestKey, manifestSha256, manifest));
      // A sign-off's document is read here (it is small) so the views can say who signed what.
      const signOff = manifest && isSignOffRun(manifest) ? signOffArtifact(manifest) : undefined;
      const signOffFile = signOff && folder.files.find((file) => file.key === signOff.key);
      const signOffBytes = signOffFile ? await reader.getBytes(signOffFile.key) : undefined;
      if (manifest && signOff) {
        signOffs.push({
          chainId: manifest.control.id,
          periodKey: manifest.period.key,
          runId: manifest.runId,
          manifestKey,
          manifestSha256,
          evidenceKey: signOff.key,
          evidenceSha256: signOff.sha256,
          document: signOffBytes ? signOffBytes.toString('utf8') : '',
        });
      }
      yield bytesEntry(manifestKey, bytes, mtime, level);
      for (const file of folder.files) {
        if (file.key === manifestKey) continue;
        yield signOffBytes && file.key === signOffFile?.key
          ? bytesEntry(file.key, signOffBytes, mtime, level)
          : objectEntry(reader, file, mtime, level);
      }
    }
  }

  const reports: ExportInfo['reports'] = [];
  let source: ReportSource | undefined;
  async function* everything(): AsyncGenerator<ZipEntry> {
    for await (const entry of lookahead(evidence(), concurrency)) {
      evidenceObjects += 1;
      evidenceBytes += entry.size ?? 0;
      yield entry;
    }
    const built = await reportSource(() => spill.read(), { range, exportedAt, bucket: request.bucket });
    source = built;
    const inputs = request.config ? reportInputsFromConfig(request.config) : undefined;
    const reportsOfArchive = await generatedReports(
      built,
      {
        range,
        exportedAt: exportedAt.toISOString(),
        bucket: request.bucket,
        tool: { version: TOOL_VERSION },
      },
      {
        ...(inputs ? { inputs } : {}),
        signOffs: signOffs.sort((a, b) => byKey(a.manifestKey, b.manifestKey)),
      },
    );
    const reserved = new Set([
      EXPORT_INFO_FILE,
      REPORT_INPUTS_FILE,
      ...reportsOfArchive.map(([path]) => path),
    ]);
    const extras = Object.entries(request.extraFiles ?? {}).map(
      ([path, value]): [string, () => Iterable<string>] => {
        if (path.startsWith(EVIDENCE_PREFIX) || path.startsWith(CHECKPOINTS_PREFIX) || reserved.has(path)) {
          throw new ExportError(
            `extra file ${path} would collide with the evidence, export.json or a generated report`,
          );
        }
        return [path, () => [reportText(value)]];
      },
    );
    const generated: [string, () => AsyncIterable<string> | Iterable<string>][] = [
      ...(inputs
        ? [[REPORT_INPUTS_FILE, () => [serializeReportInputs(inputs)]] as [string, () => string[]]]
        : []),
      ...reportsOfArchive,
      ...extras,
    ];
    for (const [path, chunks] of generated) {
      yield reportEntry(path, exportedAt, chunks, (size, sha256) => reports.push({ path, size, sha256 }));
    }
    // Last, once every report above is written and hashed.
    const info: ExportInfo = {
      kind: EXPORT_INFO_KIND,
      schemaVersion: 1,
      tool: { name: 'soc2-evidence', version: TOOL_VERSION },
      exportedAt: exportedAt.toISOString(),
      range: { ...(range.from ? { from: range.from } : {}), ...(range.to ? { to: range.to } : {}) },
      ...(request.controlId ? { controlId: request.controlId } : {}),
      bucket: request.bucket,
      counts: { controls: controlCount(built), manifests: spill.count, evidenceObjects, evidenceBytes },
      reports,
    };
    yield { name: EXPORT_INFO_FILE, mtime: exportedAt, open: () => Buffer.from(reportText(info), 'utf8') };
  }

  const zip = zipStream(everything(), {
    level,
    onEntry: (entry, size) => {
      if (entry.name.startsWith(EVIDENCE_PREFIX) || entry.name.startsWith(CHECKPOINTS_PREFIX)) {
        written += 1;
        writtenBytes += size;
        request.onProgress?.({ objects: written, totalObjects, bytes: writtenBytes });
      }
    },
  });
  try {
    await pipeline(zip, request.output);
  } catch (error) {
    if (error instanceof ExportError) throw error;
    throw new ExportError(`export failed: ${(error as Error).message}`, { cause: error });
  } finally {
    await spill.dispose();
  }
  if (!source) throw new ExportError('the archive ended before its reports were written');
  return {
    exportedAt: exportedAt.toISOString(),
    controls: controlCount(source),
    manifests: spill.count,
    evidenceObjects,
    evidenceBytes,
    unsealedFolders,
    reports,
    counts: source.counts,
  };
}

const byKey = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function controlCount(source: ReportSource): number {
  return new Set(source.overview.map((row) => row.controlId)).size;
}
