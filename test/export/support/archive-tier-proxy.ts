import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * fauxqs has no storage classes, so this HTTP proxy in front of it plays S3's archive tiers for
 * chosen keys, on the wire, the way S3 answers (the SDK then builds its own exceptions, so the
 * code under test sees exactly what it would see from S3):
 * - ListObjectsV2 lists them with `<StorageClass>DEEP_ARCHIVE</StorageClass>` (or GLACIER);
 * - HeadObject adds `x-amz-storage-class`, and `x-amz-restore` once a restore was asked for:
 *   `ongoing-request="true"` for the next `pollsUntilRestored` HEADs, then
 *   `ongoing-request="false", expiry-date="..."`;
 * - GetObject answers 403 `InvalidObjectState` until the restore is done;
 * - RestoreObject (POST ?restore) answers 202 the first time, 409 `RestoreAlreadyInProgress` while
 *   it runs, 200 once restored, and 403 `InvalidObjectState` for an object that is not archived.
 * Everything else passes through unchanged.
 */
export interface ArchiveTierProxy {
  /** Endpoint for the S3 client (path style). */
  readonly url: string;
  archive(
    key: string,
    storageClass?: 'GLACIER' | 'DEEP_ARCHIVE',
    options?: { readonly listed?: boolean },
  ): void;
  /** Makes an archived key's restored copy expire (readable again only after a new restore). */
  expireRestore(key: string): void;
  /** Every RestoreObject request that reached the proxy, in order. */
  readonly restoreRequests: { readonly key: string; readonly tier: string; readonly days: number }[];
  /** Every GetObject refused with InvalidObjectState. */
  readonly refusedGets: string[];
  stop(): Promise<void>;
}

interface Archived {
  readonly storageClass: 'GLACIER' | 'DEEP_ARCHIVE';
  /** False: listed and headed as STANDARD yet unreadable (an Intelligent-Tiering archive tier, say). */
  readonly listed: boolean;
  /** HEADs left before the restore completes; undefined while no restore was asked for. */
  pollsLeft: number | undefined;
}

const xmlError = (code: string, message: string, extra = '') =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message>${extra}<RequestId>proxy</RequestId><HostId>proxy</HostId></Error>`;

async function body(stream: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function startArchiveTierProxy(options: {
  /** The emulator's S3 endpoint, e.g. `http://127.0.0.1:4566`. */
  readonly target: string;
  readonly pollsUntilRestored: number;
}): Promise<ArchiveTierProxy> {
  const target = new URL(options.target);
  const archived = new Map<string, Archived>();
  const restoreRequests: ArchiveTierProxy['restoreRequests'] = [];
  const refusedGets: string[] = [];

  /** Forwards the request; `rewrite` may change the upstream answer's headers and body. */
  const forward = async (
    incoming: IncomingMessage,
    payload: Buffer,
    response: ServerResponse,
    rewrite?: (headers: Record<string, string | string[] | undefined>, body: Buffer) => Buffer,
  ) => {
    const upstream = await new Promise<IncomingMessage>((resolve, reject) => {
      const outgoing = request(
        {
          host: target.hostname,
          port: target.port,
          method: incoming.method,
          path: incoming.url,
          headers: { ...incoming.headers, host: target.host },
        },
        resolve,
      );
      outgoing.on('error', reject);
      outgoing.end(payload);
    });
    const headers = { ...upstream.headers };
    let answer = await body(upstream);
    if (rewrite) {
      answer = rewrite(headers, answer);
      if (incoming.method !== 'HEAD') headers['content-length'] = String(answer.length);
    }
    response.writeHead(upstream.statusCode ?? 500, headers);
    response.end(incoming.method === 'HEAD' ? undefined : answer);
  };

  const reply = (response: ServerResponse, status: number, xml?: string) => {
    response.writeHead(status, xml ? { 'content-type': 'application/xml' } : {});
    response.end(xml);
  };

  const restoreHeader = (entry: Archived) =>
    entry.pollsLeft === undefined
      ? undefined
      : entry.pollsLeft > 0
        ? 'ongoing-request="true"'
        : `ongoing-request="false", expiry-date="${new Date(Date.now() + 7 * 86_400_000).toUTCString()}"`;

  const handle = async (incoming: IncomingMessage, response: ServerResponse) => {
    const url = new URL(incoming.url ?? '/', 'http://proxy');
    const [, , ...keyParts] = url.pathname.split('/');
    const key = decodeURIComponent(keyParts.join('/'));
    const payload = await body(incoming);
    const entry = key ? archived.get(key) : undefined;
    const method = incoming.method ?? 'GET';

    if (key && method === 'POST' && url.searchParams.has('restore')) {
      const text = payload.toString('utf8');
      restoreRequests.push({
        key,
        tier: /<Tier>([^<]*)<\/Tier>/.exec(text)?.[1] ?? '',
        days: Number(/<Days>(\d+)<\/Days>/.exec(text)?.[1] ?? 0),
      });
      if (!entry) {
        return reply(
          response,
          403,
          xmlError('InvalidObjectState', "Restore is not allowed for the object's current storage class"),
        );
      }
      if (entry.pollsLeft === undefined) {
        entry.pollsLeft = options.pollsUntilRestored;
        return reply(response, 202);
      }
      if (entry.pollsLeft > 0) {
        return reply(
          response,
          409,
          xmlError('RestoreAlreadyInProgress', 'Object restore is already in progress'),
        );
      }
      return reply(response, 200);
    }
    if (entry && method === 'HEAD' && entry.listed) {
      const restore = restoreHeader(entry);
      if (entry.pollsLeft !== undefined && entry.pollsLeft > 0) entry.pollsLeft -= 1;
      return forward(incoming, payload, response, (headers, answer) => {
        headers['x-amz-storage-class'] = entry.storageClass;
        if (restore) headers['x-amz-restore'] = restore;
        return answer;
      });
    }
    if (entry && method === 'GET' && !(entry.pollsLeft === 0)) {
      refusedGets.push(key);
      return reply(
        response,
        403,
        xmlError(
          'InvalidObjectState',
          "The operation is not valid for the object's storage class",
          `<StorageClass>${entry.storageClass}</StorageClass>`,
        ),
      );
    }
    if (!key && method === 'GET' && url.searchParams.get('list-type') === '2') {
      return forward(incoming, payload, response, (_headers, answer) =>
        Buffer.from(
          answer
            .toString('utf8')
            .replace(
              /<Key>([^<]*)<\/Key>([\s\S]*?)<StorageClass>STANDARD<\/StorageClass>/g,
              (whole, listed: string, between: string) => {
                const match = archived.get(listed);
                return match?.listed
                  ? `<Key>${listed}</Key>${between}<StorageClass>${match.storageClass}</StorageClass>`
                  : whole;
              },
            ),
          'utf8',
        ),
      );
    }
    return forward(incoming, payload, response);
  };

  const server = createServer((incoming, response) => {
    handle(incoming, response).catch((error: Error) => {
      response.writeHead(500);
      response.end(xmlError('InternalError', error.message));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    archive(key, storageClass = 'DEEP_ARCHIVE', { listed = true } = {}) {
      archived.set(key, { storageClass, listed, pollsLeft: undefined });
    },
    expireRestore(key) {
      const entry = archived.get(key);
      if (entry) entry.pollsLeft = undefined;
    },
    restoreRequests,
    refusedGets,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
