import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';

/**
 * A PUT of bytes in memory to a pre-signed URL with node:http rather than fetch: fetch copies a Buffer body and
 * feeds it through web streams, which cost the CLI a third of curl's rate and hundreds of MiB of RSS on 1 GiB.
 * One keep-alive agent per protocol, so parts reuse their connections.
 */
const agents = {
  'http:': new http.Agent({ keepAlive: true }),
  'https:': new https.Agent({ keepAlive: true }),
};

export interface PutAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The body, for an error's detail (S3 answers XML). */
  text: string;
}

/** `body`: bytes in memory, or a stream of exactly `length` bytes (a range of a file). */
export function putBytes(
  url: string,
  body: Uint8Array | Readable,
  headers: Record<string, string>,
  signal?: AbortSignal,
  length = body instanceof Readable ? undefined : body.byteLength,
): Promise<PutAnswer> {
  const target = new URL(url);
  const transport = target.protocol === 'https:' ? https : http;
  const agent = agents[target.protocol as keyof typeof agents];
  return new Promise((resolve, reject) => {
    const req = transport.request(
      target,
      { method: 'PUT', agent, signal, headers: { ...headers, 'Content-Length': String(length) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (body instanceof Readable) {
      body.on('error', (err) => req.destroy(err));
      body.pipe(req);
    } else req.end(body);
  });
}
