import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';

type Verifier = (secret: string, rawBody: Buffer | string, header: string | undefined) => boolean;

/** The README's verification snippet, run as written: if the documentation is wrong, receivers here reject. */
export function readmeVerifier(): Verifier {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const code = readme.match(
    /```js\n(const \{ createHmac[\s\S]*?function verifyAssetlineSignature[\s\S]*?)```/,
  )?.[1];
  if (!code) throw new Error('README has no js block defining verifyAssetlineSignature');
  return new Function('require', `${code}\nreturn verifyAssetlineSignature;`)(
    createRequire(import.meta.url),
  ) as Verifier;
}

export interface ReceivedRequest {
  eventId: string | undefined;
  contentType: string | undefined;
  body: string;
  /** The signature checked with the README's snippet and the receiver's secret at arrival. */
  verified: boolean;
}

export interface Receiver {
  url: string;
  port: number;
  /** Set once the webhook is registered (the platform makes the secret). */
  secret: string;
  requests: ReceivedRequest[];
  close(): Promise<void>;
}

/**
 * A webhook receiver on 127.0.0.1 that records every request and answers with `respond(request, n)`, n being how
 * many times this event id has arrived so far (1 for the first).
 */
export async function startReceiver(
  respond: (request: ReceivedRequest, n: number) => number,
): Promise<Receiver> {
  const verify = readmeVerifier();
  const requests: ReceivedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const eventId = req.headers['assetline-event-id'] as string | undefined;
      const received: ReceivedRequest = {
        eventId,
        contentType: req.headers['content-type'],
        body: raw.toString('utf8'),
        verified: verify(receiver.secret, raw, req.headers['assetline-signature'] as string | undefined),
      };
      requests.push(received);
      const n = requests.filter((r) => r.eventId === eventId).length;
      res.writeHead(respond(received, n)).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const receiver: Receiver = {
    url: `http://127.0.0.1:${port}/hook`,
    port,
    secret: '',
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  return receiver;
}
