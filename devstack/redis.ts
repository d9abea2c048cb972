import fs from 'node:fs';
import path from 'node:path';
import { exchange, freePort } from './ports';
import { spawnService, waitUntilReady } from './process';

export interface StartRedisOptions {
  /** Redis' working directory; it also holds redis.log. Nothing is persisted there. */
  dataDir: string;
  /** Defaults to a free port. */
  port?: number;
  /** Default 15 s. */
  startTimeoutMs?: number;
}

export interface RedisHandle {
  /** `redis://127.0.0.1:PORT` for REDIS_URL. */
  url: string;
  port: number;
  dataDir: string;
  logFile: string;
  stop(): Promise<void>;
}

function redisServerPath(): string {
  const candidates = [process.env.REDIS_SERVER_PATH, '/usr/bin/redis-server'];
  for (const dir of (process.env.PATH ?? '').split(path.delimiter))
    if (dir) candidates.push(path.join(dir, 'redis-server'));
  for (const candidate of candidates) {
    if (candidate && fs.existsSync(candidate)) return candidate;
  }
  throw new Error(
    'redis-server not found ($REDIS_SERVER_PATH, /usr/bin/redis-server, PATH): run bash scripts/provision.sh',
  );
}

/** One inline PING: true when the server answers +PONG. */
function pingRedis(port: number, timeoutMs: number): Promise<boolean> {
  return exchange('127.0.0.1', port, timeoutMs, {
    send: 'PING\r\n',
    terminator: '\r\n',
    accept: (r) => r.startsWith('+PONG'),
  });
}

/** Starts a throwaway redis-server on 127.0.0.1 (no snapshots, no AOF) and waits until it answers PING. */
export async function startRedis(opts: StartRedisOptions): Promise<RedisHandle> {
  const dataDir = path.resolve(opts.dataDir);
  const logFile = path.join(dataDir, 'redis.log');
  fs.mkdirSync(dataDir, { recursive: true });
  const port = opts.port ?? (await freePort());
  const service = await spawnService({
    name: 'redis',
    command: redisServerPath(),
    // No config file: every setting on the command line; logs go to stdout, which spawnService appends to logFile.
    args: [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dataDir,
      '--save',
      '',
      '--appendonly',
      'no',
    ],
    logFile,
  });
  try {
    await waitUntilReady(service, `answering PING on 127.0.0.1:${port}`, opts.startTimeoutMs ?? 15_000, () =>
      pingRedis(port, 1000),
    );
  } catch (err) {
    await service.stop();
    throw err;
  }
  return { url: `redis://127.0.0.1:${port}`, port, dataDir, logFile, stop: () => service.stop() };
}
