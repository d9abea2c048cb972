import { Worker } from 'node:worker_threads';

/**
 * SHA-256 on a thread of its own, so hashing a stream overlaps with receiving it: on the main thread the two
 * take turns, and the socket waits while the hash runs. The hash is a ByteSink: bytes are read (or copied) into
 * batches whose memory moves to the thread (no second copy); at most MAX_IN_FLIGHT bytes are on their way, so a
 * fast network cannot outrun it.
 */

const SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const jobs = new Map();
parentPort.on('message', (m) => {
  if (m.op === 'update') {
    let hash = jobs.get(m.id);
    if (!hash) jobs.set(m.id, (hash = createHash('sha256')));
    hash.update(new Uint8Array(m.buf, 0, m.length));
    parentPort.postMessage({ id: m.id, ack: m.length, buf: m.buf }, [m.buf]);
  } else if (m.op === 'digest') {
    const hash = jobs.get(m.id) ?? createHash('sha256');
    jobs.delete(m.id);
    parentPort.postMessage({ id: m.id, hex: hash.digest('hex') });
  } else if (m.op === 'drop') {
    jobs.delete(m.id);
  }
});
`;

const BATCH_BYTES = 1024 * 1024;
/**
 * Bytes on their way to the thread, all hashes together: the one thread hashes at its own pace whoever sends, so
 * fifty photos verified at once hold no more memory than one large upload.
 */
const MAX_IN_FLIGHT = 16 * BATCH_BYTES;
/**
 * Batches come back with their acknowledgement and are filled again, by whichever hash needs one next: gigabytes
 * allocate a handful of them, instead of a new one per megabyte left for the thread's rare collections to free.
 */
const MAX_SPARE = MAX_IN_FLIGHT / BATCH_BYTES + 4;
const spare: ArrayBuffer[] = [];
let inFlight = 0;
const waiters: (() => void)[] = [];

function takeBatch(): Buffer {
  const buf = spare.pop();
  return buf ? Buffer.from(buf) : Buffer.allocUnsafeSlow(BATCH_BYTES);
}

function giveBack(buf: ArrayBuffer): void {
  if (spare.length < MAX_SPARE) spare.push(buf);
}

function wakeAll(): void {
  for (const wake of waiters.splice(0)) wake();
}

interface Job {
  digested(hex: string): void;
  failed(err: Error): void;
}

let thread: Worker | undefined;
const jobs = new Map<number, Job>();
let nextId = 1;

function hashThread(): Worker {
  if (thread) return thread;
  const worker = new Worker(SOURCE, { eval: true });
  worker.on('message', (m: { id: number; ack?: number; buf?: ArrayBuffer; hex?: string }) => {
    if (m.ack !== undefined && m.buf) {
      inFlight -= m.ack;
      giveBack(m.buf);
      wakeAll();
    }
    if (m.hex !== undefined) jobs.get(m.id)?.digested(m.hex);
  });
  const fail = (err: Error) => {
    thread = undefined;
    // What was on its way died with the thread: nothing will acknowledge it.
    inFlight = 0;
    for (const job of jobs.values()) job.failed(err);
    jobs.clear();
    wakeAll();
  };
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`the hashing thread exited with code ${code}`)));
  // An idle hashing thread must not keep the process alive (after the listeners: adding one refs the thread's port
  // again, and a worker process then outlived its shutdown until SIGKILL); one with hashes to finish must.
  worker.unref();
  thread = worker;
  return worker;
}

function forget(id: number): void {
  jobs.delete(id);
  if (jobs.size === 0) thread?.unref();
}

/** An incremental SHA-256 computed on the hashing thread. */
export class ThreadedSha256 {
  private readonly id = nextId++;
  private readonly worker = hashThread();
  /** Taken from the shared spares when the first byte comes, so an idle hash holds no memory. */
  private batch: Buffer | undefined;
  private filled = 0;
  private error: Error | undefined;
  private result: ((hex: string) => void) | undefined;

  constructor() {
    if (jobs.size === 0) this.worker.ref();
    jobs.set(this.id, {
      digested: (hex) => this.result?.(hex),
      failed: (err) => {
        this.error = err;
        this.result?.('');
      },
    });
  }

  async digest(): Promise<string> {
    if (this.filled > 0) this.hand();
    this.release();
    this.throwIfFailed();
    const hex = await new Promise<string>((resolve) => {
      this.result = resolve;
      this.worker.postMessage({ op: 'digest', id: this.id });
    });
    forget(this.id);
    this.throwIfFailed();
    return hex;
  }

  /** Forgets an abandoned hash (the stream failed). */
  discard(): void {
    this.release();
    forget(this.id);
    this.worker.postMessage({ op: 'drop', id: this.id });
  }

  /**
   * The free end of the batch being filled, for a socket to read straight into (no copy, no allocation); the bytes
   * count once passed to commit().
   */
  space(): Buffer {
    this.batch ??= takeBatch();
    return this.batch.subarray(this.filled);
  }

  /** Counts n bytes written into space(); false when the thread is too far behind: wait for drained(). */
  commit(n: number): boolean {
    this.filled += n;
    if (this.filled === BATCH_BYTES) this.hand();
    return inFlight <= MAX_IN_FLIGHT;
  }

  /** Resolves once the thread has caught up (or failed: the next call says so). */
  async drained(): Promise<void> {
    while (inFlight > MAX_IN_FLIGHT && !this.error) {
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  }

  private hand(): void {
    this.throwIfFailed();
    // The batch owns its whole ArrayBuffer (allocUnsafeSlow, or one returned), so it can be transferred, not copied.
    const buf = this.batch!.buffer as ArrayBuffer;
    inFlight += this.filled;
    this.worker.postMessage({ op: 'update', id: this.id, buf, length: this.filled }, [buf]);
    this.batch = undefined;
    this.filled = 0;
  }

  /** A batch never sent goes back to the spares. */
  private release(): void {
    if (this.batch) giveBack(this.batch.buffer as ArrayBuffer);
    this.batch = undefined;
    this.filled = 0;
  }

  private throwIfFailed(): void {
    if (this.error) throw this.error;
  }
}
