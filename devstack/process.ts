// Process supervision shared by the devstack services (internal helper module).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServiceProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves when the main process has exited. */
  readonly exited: Promise<ExitInfo>;
  /** Set once the main process has exited. */
  readonly exitInfo: ExitInfo | undefined;
  /** Signals the whole process group, waits for exit (escalating to SIGKILL). Idempotent. */
  stop(): Promise<void>;
}

export interface SpawnServiceOptions {
  name: string;
  command: string;
  args: string[];
  /** stdout and stderr are appended to this file. */
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Run as this user/group (only possible when we are root). */
  uid?: number;
  gid?: number;
  /** Signal sent to the process group by stop(); default SIGTERM. */
  stopSignal?: NodeJS.Signals;
  /** How long stop() waits before escalating to SIGKILL; default 15 s. */
  stopTimeoutMs?: number;
}

// Process groups still running; killed if this Node process exits without stopping them.
const live = new Map<number, string>();
let hooksInstalled = false;

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

function killAllLive(): void {
  for (const pid of live.keys()) killGroup(pid, 'SIGKILL');
  live.clear();
}

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', killAllLive);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const handler = (): void => {
      // Someone else handles this signal (e.g. a graceful shutdown calling stop()): leave it to them.
      if (process.listenerCount(signal) > 1) return;
      killAllLive();
      process.removeListener(signal, handler);
      process.kill(process.pid, signal); // default action: terminate with this signal
    };
    process.on(signal, handler);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function tailFile(file: string, lines = 40): string {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const length = Math.min(size, 64 * 1024);
      const buf = Buffer.alloc(length);
      fs.readSync(fd, buf, 0, length, size - length);
      return buf.toString('utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } finally {
      fs.closeSync(fd);
    }
  } catch (err) {
    return `(could not read ${file}: ${(err as Error).message})`;
  }
}

/** Spawns a long-running service in its own process group, logging stdout/stderr to logFile. */
export async function spawnService(opts: SpawnServiceOptions): Promise<ServiceProcess> {
  fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });
  const logFd = fs.openSync(opts.logFile, 'a');
  let child: ChildProcess;
  try {
    fs.writeSync(
      logFd,
      `\n=== ${new Date().toISOString()} ${opts.name}: ${[opts.command, ...opts.args].join(' ')}\n`,
    );
    child = spawn(opts.command, opts.args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', logFd, logFd],
      detached: true, // own process group, so stop() can kill everything it forks
      uid: opts.uid,
      gid: opts.gid,
    });
  } finally {
    fs.closeSync(logFd);
  }
  try {
    await once(child, 'spawn');
  } catch (err) {
    throw new Error(`${opts.name}: could not start ${opts.command}: ${(err as Error).message}`);
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${opts.name}: could not start ${opts.command}: no pid`);

  installExitHooks();
  live.set(pid, opts.name);

  let exitInfo: ExitInfo | undefined;
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      resolve(exitInfo);
    });
  });
  // Kill stragglers of the group as soon as the leader has gone.
  void exited.then(() => {
    killGroup(pid, 'SIGKILL');
    live.delete(pid);
  });

  let stopping: Promise<void> | undefined;
  const stopSignal = opts.stopSignal ?? 'SIGTERM';
  const stopTimeoutMs = opts.stopTimeoutMs ?? 15_000;

  return {
    name: opts.name,
    pid,
    logFile: opts.logFile,
    exited,
    get exitInfo() {
      return exitInfo;
    },
    stop() {
      stopping ??= (async () => {
        if (exitInfo === undefined) {
          killGroup(pid, stopSignal);
          let timer: NodeJS.Timeout | undefined;
          const timedOut = await Promise.race([
            exited.then(() => false),
            new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), stopTimeoutMs))),
          ]);
          clearTimeout(timer);
          if (timedOut) {
            killGroup(pid, 'SIGKILL');
            await exited;
          }
        }
        killGroup(pid, 'SIGKILL');
        live.delete(pid);
      })();
      return stopping;
    },
  };
}

export function describeExit(info: ExitInfo): string {
  return info.signal ? `was killed by ${info.signal}` : `exited with code ${info.code}`;
}

/**
 * Polls `probe` until it returns true. Fails early if the service exits, and after timeoutMs;
 * on failure the service is stopped and the error includes the tail of its log.
 */
export async function waitUntilReady(
  service: ServiceProcess,
  what: string,
  timeoutMs: number,
  probe: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastProbeError = '';
  for (;;) {
    if (service.exitInfo) {
      throw new Error(
        `${service.name} ${describeExit(service.exitInfo)} before ${what}. ` +
          `Last lines of ${service.logFile}:\n${tailFile(service.logFile)}`,
      );
    }
    try {
      // A probe may block (e.g. a connect timeout): give up on it as soon as the service dies.
      if (await Promise.race([probe(), service.exited.then(() => false)])) return;
    } catch (err) {
      // fetch says only "fetch failed": its cause (ECONNREFUSED, ECONNRESET, a parse error) tells what answered.
      const cause = (err as Error).cause as { code?: string; message?: string } | undefined;
      lastProbeError = [(err as Error).message, cause?.code ?? cause?.message].filter(Boolean).join(': ');
    }
    if (Date.now() >= deadline) {
      await service.stop();
      throw new Error(
        `${service.name} did not become ready (${what}) within ${timeoutMs} ms` +
          (lastProbeError ? ` (last probe error: ${lastProbeError})` : '') +
          `. Last lines of ${service.logFile}:\n${tailFile(service.logFile)}`,
      );
    }
    await Promise.race([service.exited, delay(150)]);
  }
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a short-lived command, collecting its output (never throws for a non-zero exit). */
export function runCommand(
  command: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; uid?: number; gid?: number; timeoutMs?: number; cwd?: string } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      uid: opts.uid,
      gid: opts.gid,
      timeout: opts.timeoutMs ?? 60_000,
      killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', (err) => reject(new Error(`could not run ${command}: ${err.message}`)));
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Like runCommand, but throws (with the command's output) unless it exits with code 0. */
export async function runChecked(
  command: string,
  args: string[],
  opts: Parameters<typeof runCommand>[2] = {},
): Promise<RunResult> {
  const result = await runCommand(command, args, opts);
  if (result.code !== 0) {
    const how = result.signal ? `was killed by ${result.signal}` : `exited with code ${result.code}`;
    throw new Error(
      `${[command, ...args].join(' ')} ${how}:\n${(result.stdout + result.stderr).trimEnd().slice(-4000)}`,
    );
  }
  return result;
}
