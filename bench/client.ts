import fs from 'node:fs/promises';
import pg from 'pg';

/** What a client of the API does, from a file on disk: parts are read one at a time, never the whole file. */

interface Ticket {
  assetId: string;
  upload:
    | { method: 'PUT'; url: string; headers: Record<string, string> }
    | { method: 'MULTIPART'; partSizeBytes: number; parts: { partNumber: number; url: string }[] };
}

async function api<T>(base: string, token: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text.slice(0, 300)}`);
  return (text ? JSON.parse(text) : null) as T;
}

async function readRange(file: string, start: number, length: number): Promise<Buffer> {
  const handle = await fs.open(file, 'r');
  try {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buf, 0, length, start);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

async function put(url: string, body: Buffer, headers: Record<string, string> = {}): Promise<string> {
  const res = await fetch(url, { method: 'PUT', headers, body });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`PUT answered ${res.status}`);
  return res.headers.get('etag') ?? '';
}

export interface Uploaded {
  assetId: string;
  /** Sends POST /media/:id/complete; resolves with the time just before it was sent. */
  complete(): Promise<number>;
}

/** Requests an upload URL and sends the bytes (in parts, `partConcurrency` at a time, when told to). */
export async function upload(
  base: string,
  token: string,
  file: string,
  contentType: string,
  partConcurrency = 4,
): Promise<Uploaded> {
  const { size } = await fs.stat(file);
  const ticket = await api<Ticket>(base, token, 'POST', '/media/upload-url', {
    filename: file.split('/').pop(),
    contentType,
    sizeBytes: size,
  });
  let completion: unknown;
  if (ticket.upload.method === 'PUT') {
    await put(ticket.upload.url, await fs.readFile(file), ticket.upload.headers);
  } else {
    const { partSizeBytes, parts } = ticket.upload;
    const sent: { partNumber: number; etag: string }[] = [];
    const queue = [...parts];
    await Promise.all(
      Array.from({ length: partConcurrency }, async () => {
        for (let part = queue.shift(); part; part = queue.shift()) {
          const bytes = await readRange(file, (part.partNumber - 1) * partSizeBytes, partSizeBytes);
          sent.push({ partNumber: part.partNumber, etag: await put(part.url, bytes) });
        }
      }),
    );
    completion = { parts: sent.sort((a, b) => a.partNumber - b.partNumber) };
  }
  return {
    assetId: ticket.assetId,
    async complete() {
      const at = Date.now();
      await api(base, token, 'POST', `/media/${ticket.assetId}/complete`, completion);
      return at;
    },
  };
}

const SETTLED = new Set(['ready', 'rejected', 'failed', 'quarantined', 'expired', 'deleted']);

/**
 * Waits until every asset has settled and returns, for each, its status and when it settled (the database's
 * timestamp of the event, so the polling interval does not count). Polled once a second: at 10 a second over the
 * 54 assets of the throughput run, the bench's own queries cost ~20 ms of CPU per asset in this process, plus
 * Postgres's share, on the same 2 cores as the platform it measures (the raw side has no such load).
 */
export async function settledAt(
  databaseUrl: string,
  assetIds: string[],
  timeoutMs = 30 * 60_000,
  pollMs = 1000,
): Promise<Map<string, { status: string; at: number }>> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { rows } = await client.query<{ id: string; status: string; at: Date | null }>(
        `SELECT a.asset_id AS id, a.status,
                (SELECT max(e.occurred_at) FROM asset_events e
                  WHERE e.asset_id = a.asset_id AND e.to_status = a.status) AS at
           FROM media_assets a WHERE a.asset_id = ANY($1::uuid[])`,
        [assetIds],
      );
      if (rows.length === assetIds.length && rows.every((r) => SETTLED.has(r.status) && r.at)) {
        return new Map(rows.map((r) => [r.id, { status: r.status, at: r.at!.getTime() }]));
      }
      if (Date.now() > deadline) {
        const open = rows.filter((r) => !SETTLED.has(r.status)).map((r) => `${r.id}: ${r.status}`);
        throw new Error(`assets did not settle within ${timeoutMs} ms: ${open.slice(0, 5).join(', ')}`);
      }
      await new Promise((r) => setTimeout(r, pollMs));
    }
  } finally {
    await client.end();
  }
}

export async function deleteAsset(base: string, token: string, assetId: string): Promise<void> {
  await api(base, token, 'DELETE', `/media/${assetId}`);
}
