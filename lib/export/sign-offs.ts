import { sha256Hex } from '../shared/canonical-json.ts';
import { escapeHtml } from '../shared/html.ts';
import type { RunSummary } from './export-model.ts';

export { SIGN_OFFS_FILE } from './export-info.ts';
export const SIGN_OFFS_KIND = 'soc2-evidence/sign-offs';

/**
 * A run that records a person's review rather than a test: every sign-off chain (the risk register's,
 * and any other review recorded the same way) names its reviewer in the signed manifest's `reviewer`
 * figure. Deciding from the signed manifest, not the evidence document, lets `verify` see every
 * sign-off the archive holds, so none can be dropped from the views.
 */
export function isSignOffRun(run: Pick<RunSummary, 'figures'>): boolean {
  return typeof run.figures.reviewer === 'string';
}

/** The evidence document a sign-off run sealed: `result.json`, or its first artifact. */
export function signOffArtifact(
  run: Pick<RunSummary, 'artifacts'>,
): RunSummary['artifacts'][number] | undefined {
  return run.artifacts.find((a) => a.key.endsWith('/result.json')) ?? run.artifacts[0];
}

/** One sign-off as the export carries it: where it is sealed, and its evidence document's exact text. */
export interface SignOffEvidence {
  /** The chain (its control id), e.g. `risk-register-review`. */
  readonly chainId: string;
  readonly periodKey: string;
  readonly runId: string;
  readonly manifestKey: string;
  readonly manifestSha256: string;
  readonly evidenceKey: string;
  /** SHA-256 of the evidence document, as the signed manifest lists it. */
  readonly evidenceSha256: string;
  /** The document's text; `verify` requires its SHA-256 to be `evidenceSha256`. Empty when unreadable. */
  readonly document: string;
}

/** A sign-off summarised for people: who, when, in which role, over which content, what changed. */
export interface SignOffView {
  readonly chainId: string;
  readonly periodKey: string;
  readonly kind: string;
  readonly by: string;
  readonly role: string;
  readonly signedAt: string;
  readonly note: string | null;
  /** Content hashes the reviewer signed off, e.g. `registerSha256`. */
  readonly hashes: readonly { readonly name: string; readonly sha256: string }[];
  /** One line per change (or decision) the sign-off records. */
  readonly changes: readonly string[];
  readonly evidenceKey: string;
  readonly manifestKey: string;
  /** False when the document is missing or its hash is not the signed one. */
  readonly documentVerified: boolean;
}

const text = (value: unknown): string => {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
};

/** A change or decision as one line: the risk register's `{riskId, field, from, to}`, or any object's fields. */
function changeLine(change: unknown): string {
  if (change === null || typeof change !== 'object') return text(change);
  const c = change as Record<string, unknown>;
  const subject = c.riskId ?? c.subjectId ?? c.accountId ?? c.account ?? c.id;
  if (c.field === 'added' || c.field === 'removed') return `${text(subject)} ${c.field}`;
  if ('field' in c && 'from' in c && 'to' in c)
    return `${text(subject)} ${text(c.field)}: ${text(c.from)} → ${text(c.to)}`;
  return Object.entries(c)
    .map(([key, value]) => `${key}: ${text(value)}`)
    .join(', ');
}

/** Reads a sign-off's view from its evidence document (the run's `details`), whatever its kind. */
export function signOffView(evidence: SignOffEvidence, figures: RunSummary['figures'] = {}): SignOffView {
  const documentVerified =
    evidence.document !== '' && sha256Hex(evidence.document) === evidence.evidenceSha256;
  let details: Record<string, unknown> = {};
  if (documentVerified) {
    try {
      const parsed = JSON.parse(evidence.document) as { details?: unknown };
      if (parsed && typeof parsed.details === 'object' && parsed.details !== null)
        details = parsed.details as Record<string, unknown>;
    } catch {
      // Not JSON: shown from the manifest's figures only.
    }
  }
  const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
  const hashes = Object.entries(details)
    .filter(([name, value]) => /sha256$/i.test(name) && typeof value === 'string')
    .map(([name, value]) => ({ name, sha256: value as string }));
  const listed = [details.changes, details.decisions].flatMap((list) => (Array.isArray(list) ? list : []));
  return {
    chainId: evidence.chainId,
    periodKey: evidence.periodKey,
    kind: str(details.kind) ?? 'unknown',
    by: str(details.by) ?? str(figures.reviewer) ?? 'unknown',
    role: str(details.role) ?? str(figures.role) ?? 'unknown',
    signedAt: str(details.signedAt) ?? '',
    note: str(details.note) ?? null,
    hashes:
      hashes.length > 0
        ? hashes
        : Object.entries(figures)
            .filter(([name, value]) => /sha256$/i.test(name) && typeof value === 'string')
            .map(([name, value]) => ({ name, sha256: value as string })),
    changes: listed.map(changeLine),
    evidenceKey: evidence.evidenceKey,
    manifestKey: evidence.manifestKey,
    documentVerified,
  };
}

/** `sign-offs.json`: every sign-off of the range with its sealed document. */
export function signOffsDocument(signOffs: readonly SignOffEvidence[], views: readonly SignOffView[]) {
  return {
    kind: SIGN_OFFS_KIND,
    schemaVersion: 1,
    signOffs: signOffs.map((evidence, index) => ({ ...views[index], evidence })),
  };
}

/** Reads `sign-offs.json` back into evidence by manifest key (verify re-checks every hash). */
export function signOffDocumentsFrom(bytes: Uint8Array | undefined): Map<string, string> {
  const documents = new Map<string, string>();
  if (!bytes) return documents;
  try {
    const parsed = JSON.parse(Buffer.from(bytes).toString('utf8')) as {
      signOffs?: { evidence?: { manifestKey?: unknown; document?: unknown } }[];
    };
    for (const entry of parsed.signOffs ?? []) {
      const key = entry.evidence?.manifestKey;
      const document = entry.evidence?.document;
      if (typeof key === 'string' && typeof document === 'string') documents.set(key, document);
    }
  } catch {
    // An unreadable file yields no documents; the regenerated copy then differs and verify says so.
  }
  return documents;
}

const STYLE = `
#sign-offs table{border-collapse:collapse;width:100%;margin:8px 0}#sign-offs th,#sign-offs td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
#sign-offs thead th{background:#f6f8fa;font-size:12px}#sign-offs ul{margin:0;padding-left:16px}#sign-offs code{font-size:12px}
#sign-offs .unverified{color:var(--fail,#cf222e);font-weight:600}
`;

/** The sign-offs section of index.html: one row per sign-off, newest last (chain order). */
export function renderSignOffsHtml(views: readonly SignOffView[]): string {
  const rows = views.map((v) => {
    const hashes = v.hashes
      .map((h) => `${escapeHtml(h.name)} <code>${escapeHtml(h.sha256)}</code>`)
      .join('<br>');
    const changes = v.changes.length
      ? `<ul>${v.changes.map((c) => `<li>${escapeHtml(c)}</li>`).join('')}</ul>`
      : 'no change since the previous sign-off';
    const unverified = v.documentVerified
      ? ''
      : '<p class="unverified">The sealed document is missing or does not match its signed hash.</p>';
    return `<tr class="sign-off" data-chain="${escapeHtml(v.chainId)}" data-period="${escapeHtml(v.periodKey)}" data-by="${escapeHtml(v.by)}"><td>${escapeHtml(v.chainId)}<br><small>${escapeHtml(v.periodKey)}</small></td><td class="by">${escapeHtml(v.by)}</td><td class="role">${escapeHtml(v.role)}</td><td class="when">${escapeHtml(v.signedAt)}</td><td class="hash">${hashes || '—'}</td><td class="changes">${changes}${v.note ? `<p>Note: ${escapeHtml(v.note)}</p>` : ''}${unverified}</td><td><a href="${escapeHtml(v.evidenceKey)}">evidence</a>, <a href="${escapeHtml(v.manifestKey)}">manifest</a></td></tr>`;
  });
  const body =
    views.length > 0
      ? `<table><thead><tr><th scope="col">Chain</th><th scope="col">Who</th><th scope="col">Role</th><th scope="col">When</th><th scope="col">Content signed off</th><th scope="col">What changed</th><th scope="col">Files</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table>`
      : '<p id="no-sign-offs">No sign-off was recorded in this range.</p>';
  return `<section class="sign-offs" id="sign-offs"><style>${STYLE}</style>
<h2>Reviews and sign-offs</h2>
<p class="meta">${views.length} sign-off(s), each sealed in its own signed chain like control evidence.</p>
${body}
</section>
`;
}
