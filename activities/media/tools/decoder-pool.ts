/**
 * Long-lived image decoder children (image-child.ts under `prlimit --data`), one image at a time each. Starting Node
 * and importing sharp costs ~0.5 s idle and seconds under load, so a child serves many images; a crash, a stall or
 * a cancellation ends only that child, and the next image gets a fresh one. Children are retired after
 * RECYCLE_AFTER images or once their RSS passes a share of the cap: what libvips and malloc keep between images
 * counts against RLIMIT_DATA, and would otherwise creep until an ordinary image is refused.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { abortError } from './ffmpeg-run';
import type { RenderAnswer, RenderReply, RenderRequest } from './image-child';

/** image-child.ts's exit code when it could not cap its memory (kept here: importing the child would run it). */
const NO_CAP_EXIT = 70;

const CHILD = fileURLToPath(new URL('./image-child.ts', import.meta.url));
/** Where node_modules is: `--import tsx` resolves from the child's working directory. */
const ROOT = path.resolve(path.dirname(CHILD), '../../..');
const RECYCLE_AFTER = 200;

export interface DecoderPoolOptions {
  /** Children at most: the worker's MEDIA_CONCURRENCY, so every media slot can decode at once. */
  size: number;
  /** DECODER_MEMORY_MB: each child's data segment cap. */
  memoryMb: number;
  /** A child is retired after this many images (default 200). */
  recycleAfter?: number;
  /** A child is retired once its RSS passes this (default half the cap). */
  recycleRssMb?: number;
}

/** warm: the child had served images before this one. */
export type Outcome = { answer: RenderAnswer; warm: boolean } | { crashed: string } | { stalled: true };

export interface RunOptions {
  /** The child is killed when it has not answered within this long. */
  stallMs: number;
  signal?: AbortSignal | undefined;
  /** Run in a child that has served no image yet (a retry after a crash or an allocation refusal). */
  fresh?: boolean;
}

interface Decoder {
  process: ChildProcess;
  served: number;
  rssBytes: number;
  /** Settles the image in flight when the child exits. */
  onExit?: (code: number | null, signal: NodeJS.Signals | null) => void;
  onAnswer?: (reply: RenderReply) => void;
  exited: Promise<void>;
  stderr: string;
}

export class DecoderPool {
  private readonly idle: Decoder[] = [];
  private readonly busy = new Set<Decoder>();
  private readonly waiters: ((decoder: Decoder | undefined) => void)[] = [];
  private spawned = 0;
  private closed = false;
  private readonly recycleAfter: number;
  private readonly recycleRssBytes: number;
  /** libvips threads per child: the pool gives the parallelism, so together they use about the machine's cores. */
  private readonly threads: number;

  constructor(private readonly options: DecoderPoolOptions) {
    this.recycleAfter = options.recycleAfter ?? RECYCLE_AFTER;
    this.recycleRssBytes = (options.recycleRssMb ?? options.memoryMb / 2) * 1024 * 1024;
    this.threads = Math.max(1, Math.floor(os.availableParallelism() / options.size));
  }

  get memoryMb(): number {
    return this.options.memoryMb;
  }

  /** For tests and metrics: the live children and how many were ever started. */
  stats() {
    const children = [...this.idle, ...this.busy].map((d) => ({
      pid: d.process.pid!,
      busy: this.busy.has(d),
      served: d.served,
      rssBytes: d.rssBytes,
    }));
    return { spawned: this.spawned, busy: this.busy.size, children };
  }

  /**
   * Renders one request in a child. When a child is free (or may be started) the request is sent before this
   * returns its promise, so an abort right after the call reaches the child doing it.
   */
  run(request: RenderRequest, opts: RunOptions): Promise<Outcome> {
    if (opts.signal?.aborted) return Promise.reject(abortError(opts.signal));
    if (this.closed) return Promise.reject(new Error('image decoder pool is closed'));
    const decoder = this.take(opts.fresh ?? false);
    if (decoder) return this.dispatch(decoder, request, opts);
    return this.waitForChild(opts).then((d) =>
      this.dispatch(opts.fresh && d.served > 0 ? this.replace(d) : d, request, opts),
    );
  }

  /** Ends every child and waits for them to exit; later runs are refused. */
  async close(): Promise<void> {
    this.closed = true;
    for (const wake of this.waiters.splice(0)) wake(undefined);
    const all = [...this.idle.splice(0), ...this.busy];
    for (const d of all) {
      // Idle children are unref'd: without this a process with nothing else to do would exit before they are reaped.
      d.process.ref();
      (d.process.stderr as Readable & { ref?: () => void }).ref?.();
      d.process.kill('SIGKILL');
    }
    await Promise.all(all.map((d) => d.exited));
  }

  private take(fresh: boolean): Decoder | undefined {
    // Most recently used first: under light load one child does the work and the rest are never started.
    let decoder = this.idle.pop();
    if (decoder && fresh && decoder.served > 0) {
      this.retire(decoder);
      decoder = undefined;
    }
    if (!decoder && this.idle.length + this.busy.size < this.options.size) decoder = this.start();
    if (decoder) {
      this.busy.add(decoder);
      // Busy, the child keeps the worker alive; idle, it does not (see release()).
      decoder.process.ref();
      (decoder.process.channel as { ref?: () => void } | undefined)?.ref?.();
    }
    return decoder;
  }

  private waitForChild(opts: RunOptions): Promise<Decoder> {
    return new Promise<Decoder>((resolve, reject) => {
      const onAbort = () => {
        const at = this.waiters.indexOf(wake);
        if (at >= 0) this.waiters.splice(at, 1);
        reject(abortError(opts.signal));
      };
      const wake = (decoder: Decoder | undefined) => {
        opts.signal?.removeEventListener('abort', onAbort);
        if (decoder) resolve(decoder);
        else reject(new Error('image decoder pool is closed'));
      };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(wake);
    });
  }

  private start(): Decoder {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', CHILD, String(this.threads), String(this.options.memoryMb)],
      { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'advanced' },
    );
    this.spawned += 1;
    const decoder: Decoder = {
      process: child,
      served: 0,
      rssBytes: 0,
      stderr: '',
      exited: new Promise<void>((resolve) => child.once('close', () => resolve())),
    };
    child.stderr!.on('data', (chunk: Buffer) => {
      decoder.stderr = (decoder.stderr + chunk.toString()).slice(-2000);
    });
    (child.stderr as Readable & { unref?: () => void }).unref?.();
    child.on('message', (reply: RenderReply) => decoder.onAnswer?.(reply));
    // A child not spawned at all ends up here too, with code -2 and no signal.
    child.once('error', () => undefined);
    child.once('exit', (code, signal) => {
      this.forget(decoder);
      decoder.onExit?.(code, signal);
    });
    return decoder;
  }

  private dispatch(decoder: Decoder, request: RenderRequest, opts: RunOptions): Promise<Outcome> {
    const { signal } = opts;
    const child = decoder.process;
    return new Promise<Outcome>((resolve, reject) => {
      let stalled = false;
      let aborted = false;
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        decoder.onAnswer = undefined;
        decoder.onExit = undefined;
      };
      const timer = setTimeout(() => {
        stalled = true;
        child.kill('SIGKILL');
      }, opts.stallMs);
      const onAbort = () => {
        aborted = true;
        child.kill('SIGKILL');
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const warm = decoder.served > 0;
      decoder.onAnswer = (reply) => {
        done();
        decoder.served += 1;
        decoder.rssBytes = reply.rssBytes;
        this.release(decoder);
        resolve({ answer: reply.answer, warm });
      };
      decoder.onExit = (code, exitSignal) => {
        done();
        if (aborted) return reject(abortError(signal));
        if (stalled) return resolve({ stalled: true });
        if (code === NO_CAP_EXIT || code === -2 || (code === null && exitSignal === null)) {
          // An infrastructure problem (prlimit missing), retried, not the image's fault.
          const last = decoder.stderr.trim().split('\n').at(-1) ?? '';
          return reject(new Error(`image decoder could not start: ${last}`));
        }
        const how = exitSignal ?? `exit code ${code}`;
        const last = decoder.stderr.trim().split('\n').at(-1);
        resolve({ crashed: exitSignal || !last ? how : `${how} (${last.slice(0, 200)})` });
      };
      child.send(request);
    });
  }

  /** Back to the idle children, unless it has served its share or grown too large; then a waiter gets a child. */
  private release(decoder: Decoder): void {
    this.busy.delete(decoder);
    if (decoder.served >= this.recycleAfter || decoder.rssBytes > this.recycleRssBytes) {
      this.retire(decoder);
    } else {
      decoder.process.unref();
      (decoder.process.channel as { unref?: () => void } | undefined)?.unref?.();
      this.idle.push(decoder);
    }
    this.wakeWaiter();
  }

  /** A busy child swapped for a new one, its place kept (no waiter may take it meanwhile). */
  private replace(decoder: Decoder): Decoder {
    this.busy.delete(decoder);
    decoder.process.kill('SIGKILL');
    const fresh = this.start();
    this.busy.add(fresh);
    return fresh;
  }

  private retire(decoder: Decoder): void {
    this.forget(decoder);
    decoder.process.kill('SIGKILL');
  }

  /** A child that exited or was retired frees its place. */
  private forget(decoder: Decoder): void {
    const at = this.idle.indexOf(decoder);
    if (at >= 0) this.idle.splice(at, 1);
    if (this.busy.delete(decoder) || at >= 0) this.wakeWaiter();
  }

  private wakeWaiter(): void {
    if (this.waiters.length === 0 || this.closed) return;
    const decoder = this.take(false);
    if (decoder) this.waiters.shift()!(decoder);
  }
}
