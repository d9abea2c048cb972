import { createHash, randomBytes } from 'node:crypto';
import { request, eventually, type JsonResponse } from './http';

export const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Arbitrary bytes; foundation tests check transport and hashing, not decoding. */
export const someBytes = (size: number) => randomBytes(size);

export interface UploadTicket {
  assetId: string;
  status: string;
  upload: { method: 'PUT'; url: string; headers: Record<string, string>; expiresAt: string };
}

export async function requestUpload(
  baseUrl: string,
  token: string,
  body: Record<string, unknown>,
): Promise<JsonResponse<UploadTicket>> {
  return request<UploadTicket>('POST', `${baseUrl}/media/upload-url`, { token, body });
}

/** One part to its pre-signed URL; the ETag S3 answered (a part S3 refuses fails the test). */
export async function putPart(url: string, body: Buffer): Promise<string> {
  const res = await fetch(url, { method: 'PUT', body });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`part PUT answered ${res.status}`);
  return res.headers.get('etag')!;
}

export async function putBytes(ticket: UploadTicket, data: Buffer): Promise<number> {
  const res = await fetch(ticket.upload.url, { method: 'PUT', headers: ticket.upload.headers, body: data });
  await res.arrayBuffer();
  return res.status;
}

export async function waitForStatus(
  baseUrl: string,
  token: string,
  assetId: string,
  statuses: string[],
  timeoutMs = 30_000,
) {
  const res = await eventually(
    `asset ${assetId} to reach ${statuses.join('/')}`,
    () => request('GET', `${baseUrl}/media/${assetId}`, { token }),
    (r) => statuses.includes(String(r.body.status)),
    timeoutMs,
  );
  return res.body;
}

/** Requests an upload URL, PUTs the file (in parts when the API asks for multipart), completes it; returns the id. */
export async function uploadFile(
  baseUrl: string,
  token: string,
  data: Buffer,
  contentType: string,
  filename: string,
): Promise<string> {
  const ticket = await request<{ assetId: string; upload: Record<string, unknown> }>(
    'POST',
    `${baseUrl}/media/upload-url`,
    { token, body: { filename, contentType, sizeBytes: data.length } },
  );
  if (ticket.status !== 201)
    throw new Error(`upload-url answered ${ticket.status}: ${JSON.stringify(ticket.body)}`);
  let completion: unknown;
  if (ticket.body.upload.method === 'MULTIPART') {
    const { partSizeBytes, parts } = ticket.body.upload as {
      partSizeBytes: number;
      parts: { partNumber: number; url: string }[];
    };
    const sent: { partNumber: number; etag: string }[] = [];
    for (const part of parts) {
      const start = (part.partNumber - 1) * partSizeBytes;
      const res = await fetch(part.url, { method: 'PUT', body: data.subarray(start, start + partSizeBytes) });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`part ${part.partNumber} PUT answered ${res.status}`);
      sent.push({ partNumber: part.partNumber, etag: res.headers.get('etag')! });
    }
    completion = { parts: sent };
  } else {
    const put = await putBytes(ticket.body as unknown as UploadTicket, data);
    if (put !== 200) throw new Error(`PUT answered ${put}`);
  }
  const done = await request('POST', `${baseUrl}/media/${ticket.body.assetId}/complete`, {
    token,
    body: completion,
  });
  if (done.status !== 202) throw new Error(`complete answered ${done.status}`);
  return ticket.body.assetId;
}

export interface RenditionView {
  name: string;
  mimeType: string;
  width: number | null;
  height: number | null;
  bitRate: number | null;
  durationSeconds: number | null;
  sizeBytes: number;
}

export const SETTLED = ['ready', 'rejected', 'failed', 'quarantined', 'expired', 'deleted'];
