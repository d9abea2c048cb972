import http from 'node:http';
import https from 'node:https';

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

export function putBytes(
  url: string,
  body: Uint8Array,
  headers: Record<string, string>,
  signal?: AbortSignal,
): Promise<PutAnswer> {
  const target = new URL(url);
  const transport = target.protocol === 'https:' ? https : http;
  const agent = agents[target.protocol as keyof typeof agents];
  return new Promise((resolve, reject) => {
    const req = transport.request(
      target,
      { method: 'PUT', agent, signal, headers: { ...headers, 'Content-Length': String(body.byteLength) } },
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
    req.end(body);
  });
}
