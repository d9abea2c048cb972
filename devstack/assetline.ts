import fs from 'node:fs';
import path from 'node:path';
import { spawnService, waitUntilReady, type ServiceProcess } from './process';
import { repoRoot } from './tools';

export type AssetlineRole = 'api' | 'worker';

export interface StartAssetlineOptions {
  /** The process's whole configuration (DATABASE_URL, S3_*, TEMPORAL_*, ...), as in production. */
  env: NodeJS.ProcessEnv;
  /** stdout/stderr (pino JSON lines) are appended here. */
  logFile: string;
  /** Default 60 s. */
  startTimeoutMs?: number;
}

export interface AssetlineProcess extends ServiceProcess {
  role: AssetlineRole;
  /** `http://127.0.0.1:PORT` for the API. */
  url?: string;
}

const entryPoints: Record<AssetlineRole, string> = { api: 'api/main.ts', worker: 'worker/main.ts' };

/**
 * The API or a worker as its own OS process, configured only through the environment: what the benchmark
 * measures (RSS, latency) and what the chaos suite kills with SIGKILL. Ready when the API answers /healthz, or
 * when the worker answers /readyz (with WORKER_HEALTH_ADDRESS) or else has logged that it polls (after migrations,
 * search attributes and schedules; so LOG_LEVEL must be info or finer).
 */
export async function startAssetline(
  role: AssetlineRole,
  opts: StartAssetlineOptions,
): Promise<AssetlineProcess> {
  const logFile = path.resolve(opts.logFile);
  // Only lines written by this incarnation count towards readiness: the log is appended across restarts.
  const marker = `assetline-start-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`;
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  fs.appendFileSync(logFile, `${marker}\n`);
  const service = await spawnService({
    name: `assetline-${role}`,
    command: process.execPath,
    args: ['--import', 'tsx', entryPoints[role]],
    cwd: repoRoot,
    env: { ...process.env, ...opts.env },
    logFile,
    stopTimeoutMs: 20_000,
  });
  const timeout = opts.startTimeoutMs ?? 60_000;
  if (role === 'api') {
    const url = `http://127.0.0.1:${opts.env.PORT ?? 3000}`;
    await waitUntilReady(service, `${url}/healthz`, timeout, async () => (await fetch(`${url}/healthz`)).ok);
    return Object.assign(service, { role, url });
  }
  const health = opts.env.WORKER_HEALTH_ADDRESS;
  if (health) {
    const url = `http://${health.startsWith(':') ? '127.0.0.1' : ''}${health}/readyz`;
    await waitUntilReady(service, url, timeout, async () => (await fetch(url)).ok);
    return Object.assign(service, { role });
  }
  await waitUntilReady(service, 'worker running', timeout, async () => {
    const text = fs.readFileSync(logFile, 'utf8');
    return text.slice(text.lastIndexOf(marker)).includes('worker running');
  });
  return Object.assign(service, { role });
}

/** SIGKILL to the whole process group: no shutdown hook runs, in-flight activities just stop. */
export async function killHard(proc: ServiceProcess): Promise<void> {
  try {
    process.kill(-proc.pid, 'SIGKILL');
  } catch {
    // already gone
  }
  await proc.exited;
}

/** The processes `pid` started, from each of its threads' children lists. */
export function childrenOf(pid: number): number[] {
  let tasks: string[];
  try {
    tasks = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  return tasks.flatMap((tid) => {
    try {
      return fs
        .readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8')
        .trim()
        .split(/\s+/)
        .filter(Boolean)
        .map(Number);
    } catch {
      return [];
    }
  });
}

/** Every process below `pid` (ffmpeg, poppler, the image decoders, tsx's esbuild service). */
export function descendants(pid: number): number[] {
  return childrenOf(pid).flatMap((child) => [child, ...descendants(child)]);
}

/** Resident set size of a process and its descendants (ffmpeg, poppler run as children), from /proc. */
export function treeRssBytes(pid: number): number {
  return [pid, ...descendants(pid)].reduce((total, p) => total + rssBytes(p), 0);
}

export function rssBytes(pid: number): number {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
    return kb ? Number(kb) * 1024 : 0;
  } catch {
    return 0;
  }
}
