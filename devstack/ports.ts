import net from 'node:net';

/** Asks the kernel for a currently free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('freePort: unexpected server address'));
        return;
      }
      const { port } = address;
      server.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}

/** One connection attempt: resolves true if something accepts a TCP connection on host:port. */
export function canConnect(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return exchange(host, port, timeoutMs);
}

/**
 * One connection, optionally one request: resolves true when the peer accepts (no request) or its reply, up to the
 * terminator, satisfies `accept`; false on refusal, timeout or close. For health pings of line protocols.
 */
export function exchange(
  host: string,
  port: number,
  timeoutMs: number,
  request?: { send: string; terminator: string; accept: (reply: string) => boolean },
): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let reply = '';
    const done = (ok: boolean): void => {
      socket.removeAllListeners();
      socket.on('error', () => {});
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.setEncoding('utf8');
    socket.once('connect', () => (request ? socket.write(request.send) : done(true)));
    socket.on('data', (d: string) => {
      reply += d;
      if (request && reply.includes(request.terminator)) done(request.accept(reply));
    });
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}

/** Polls until host:port accepts TCP connections; rejects after timeoutMs. */
export async function waitForPort(host: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await canConnect(host, port, Math.min(1000, Math.max(50, deadline - Date.now())))) return;
    if (Date.now() >= deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${host}:${port} to accept connections`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
