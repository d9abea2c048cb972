import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An HTTP proxy in front of the S3 server that counts the part uploads S3 accepted (PUT ?partNumber=N answered 2xx),
 * so a test sees what a client really sent rather than what it says it sent. The Host header passes unchanged:
 * pre-signed URLs are signed for the proxy's address, and S3 checks the signature against the Host it receives.
 */
export interface CountingProxy {
  url: string;
  /** Accepted part PUTs by part number, since the last reset. */
  accepted: Map<number, number>;
  /** Requests still being forwarded. */
  active(): number;
  reset(): void;
  close(): Promise<void>;
}

export async function countingProxy(target: string): Promise<CountingProxy> {
  const upstream = new URL(target);
  const accepted = new Map<number, number>();
  let active = 0;
  const server: Server = createServer((req, res) => {
    active++;
    const part = new URL(req.url ?? '/', 'http://x').searchParams.get('partNumber');
    const forward = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        if (req.method === 'PUT' && part && answer.statusCode! < 300) {
          accepted.set(Number(part), (accepted.get(Number(part)) ?? 0) + 1);
        }
        res.writeHead(answer.statusCode!, answer.headers);
        answer.pipe(res);
        answer.on('end', () => active--);
      },
    );
    forward.on('error', () => {
      active--;
      res.destroy();
    });
    // A client killed mid-body: S3 must see the body cut short too, not a complete one.
    req.on('aborted', () => forward.destroy());
    req.on('error', () => forward.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    accepted,
    active: () => active,
    reset: () => accepted.clear(),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
