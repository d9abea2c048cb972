import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { streamIntoSink } from '../infra/adapters/byte-sink';
import { HttpStatusError, httpReadInto, UnsupportedAnswerError } from '../infra/adapters/http-read-into';
import { collectingSink } from './helpers/collecting-sink';
import { sha256 } from './helpers/media';

/** A raw TCP server that answers each connection with `answer`, written in the pieces given. */
const servers: net.Server[] = [];
const sockets = new Set<net.Socket>();
async function serve(answer: (socket: net.Socket) => unknown): Promise<URL> {
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    // The request arrives first; what the reader sent does not matter here.
    socket.once('data', () => void answer(socket));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return new URL(`http://127.0.0.1:${port}/bucket/key?X-Amz-Signature=abc`);
}
afterEach(async () => {
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  for (const server of servers.splice(0)) {
    await new Promise((resolve) => server.close(resolve));
  }
});

const opts = { connectTimeoutMs: 2_000, idleTimeoutMs: 2_000 };
const head = (status: string, headers: Record<string, string | number>) =>
  `HTTP/1.1 ${status}\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n`;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('httpReadInto: a GET read straight into the sink', () => {
  it('delivers exactly the body, whatever pieces the head and body arrive in', async () => {
    const body = randomBytes(3 * 1024 * 1024 + 7);
    const answer = Buffer.concat([
      Buffer.from(head('200 OK', { 'Content-Length': body.length, ETag: '"x"' })),
      body,
    ]);
    const url = await serve(async (socket) => {
      // The head split mid-line, then body pieces of uneven sizes.
      for (let at = 0, n = 5; at < answer.length; n = (n * 7919) % 200_003) {
        socket.write(answer.subarray(at, at + n));
        at += n;
        if (at < 200) await pause(2);
      }
      socket.end();
    });
    const sink = collectingSink();
    expect(await httpReadInto(url, sink, opts)).toBe(body.length);
    expect(sha256(sink.bytes())).toBe(sha256(body));
    expect(sink.waits()).toBeGreaterThan(0);
  });

  it('an empty body is 0 bytes; a 404 is null', async () => {
    const empty = await serve((s) => s.end(head('200 OK', { 'Content-Length': 0 })));
    expect(await httpReadInto(empty, collectingSink(), opts)).toBe(0);
    const missing = await serve((s) =>
      s.end(head('404 Not Found', { 'Content-Length': 22 }) + '<Error>NoSuchKey</Error>'.slice(0, 22)),
    );
    expect(await httpReadInto(missing, collectingSink(), opts)).toBeNull();
  });

  it('a connection closed mid-body rejects, naming how far it got', async () => {
    const url = await serve((s) =>
      s.end(Buffer.concat([Buffer.from(head('200 OK', { 'Content-Length': 1000 })), randomBytes(400)])),
    );
    await expect(httpReadInto(url, collectingSink(), opts)).rejects.toThrow(/after 400 of 1000 bytes/);
  });

  it('an error answer rejects with its status and the body S3 sent', async () => {
    const xml = '<Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>';
    const url = await serve((s) => s.end(head('503 Slow Down', { 'Content-Length': xml.length }) + xml));
    const err = await httpReadInto(url, collectingSink(), opts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpStatusError);
    expect((err as HttpStatusError).status).toBe(503);
    expect((err as Error).message).toContain('SlowDown');
  });

  it('a chunked 200 is refused before anything reaches the sink, so another reader can take over', async () => {
    const url = await serve((s) =>
      s.end(head('200 OK', { 'Transfer-Encoding': 'chunked' }) + '5\r\nhello\r\n0\r\n\r\n'),
    );
    const sink = collectingSink();
    await expect(httpReadInto(url, sink, opts)).rejects.toBeInstanceOf(UnsupportedAnswerError);
    expect(sink.bytes().length).toBe(0);
  });

  it('more bytes than the Content-Length promised reject', async () => {
    const url = await serve((s) =>
      s.end(Buffer.concat([Buffer.from(head('200 OK', { 'Content-Length': 10 })), randomBytes(5000)])),
    );
    await expect(httpReadInto(url, collectingSink(), opts)).rejects.toThrow(/more than its Content-Length/);
  });

  it('a server that goes silent is given up after the idle timeout; an abort stops the read at once', async () => {
    const silent = await serve((s) =>
      s.write(Buffer.concat([Buffer.from(head('200 OK', { 'Content-Length': 1e6 })), randomBytes(10)])),
    );
    const started = Date.now();
    await expect(httpReadInto(silent, collectingSink(), { ...opts, idleTimeoutMs: 300 })).rejects.toThrow(
      /no bytes .* for 300 ms/,
    );
    expect(Date.now() - started).toBeLessThan(2_000);

    const abort = new AbortController();
    const read = httpReadInto(silent, collectingSink(), { ...opts, signal: abort.signal });
    setTimeout(() => abort.abort(new Error('asset deleted')), 100);
    await expect(read).rejects.toThrow('asset deleted');
  });

  it('nothing listening fails the connection instead of hanging', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    await expect(
      httpReadInto(new URL(`http://127.0.0.1:${port}/b/k`), collectingSink(), opts),
    ).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe('streamIntoSink: the copying reader for everything else', () => {
  it('copies a stream of uneven pieces into small spaces, waiting when asked', async () => {
    const data = randomBytes(1024 * 1024 + 99);
    const pieces = [data.subarray(0, 1), data.subarray(1, 300_000), data.subarray(300_000)];
    const sink = collectingSink(4093);
    expect(await streamIntoSink(Readable.from(pieces), sink)).toBe(data.length);
    expect(sink.bytes().equals(data)).toBe(true);
    expect(sink.waits()).toBeGreaterThan(0);
  });
});
