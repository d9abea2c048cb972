import type { Readable } from 'node:stream';
import {
  AbstractTokenizer,
  EndOfStreamError,
  type IRandomAccessTokenizer,
  type IReadChunkOptions,
} from 'strtok3';
import { RangeNotSatisfiableError, type ObjectStore } from './object-store';

export interface ReadBudget {
  /** Bytes fetched per ranged GET at least: a parser's many small reads near one place cost one request. */
  blockBytes: number;
  /** Ranged GETs allowed in all, the first included. */
  maxReads: number;
  /** Bytes fetched in all. */
  maxBytes: number;
}

/** The parser wanted more of the object than the budget allows: a hostile file, or one no parser should need. */
export class ReadBudgetExceededError extends Error {
  constructor(readonly what: string) {
    super(`reading the object would exceed ${what}`);
    this.name = 'ReadBudgetExceededError';
  }
}

/**
 * A strtok3 tokenizer over one stored object, fetched block by block with ranged GETs only where the parser looks
 * (file-type skips to a TIFF's IFD at the end, or past an ID3 tag, without reading what lies between). Blocks are
 * cached; the budget caps requests and bytes so a crafted file cannot walk a large object range by range.
 */
export class ObjectTokenizer extends AbstractTokenizer implements IRandomAccessTokenizer {
  readonly fileInfo: { size: number };
  /** What was fetched so far, for the budget and for figures. */
  readonly stats = { reads: 0, bytes: 0 };
  private readonly blocks = new Map<number, Buffer>();

  private constructor(
    private readonly store: ObjectStore,
    private readonly key: string,
    size: number,
    private readonly budget: ReadBudget,
  ) {
    super();
    this.fileInfo = { size };
  }

  /** Reads the first block, which also tells the object's size. Throws when there is no object at the key. */
  static async open(store: ObjectStore, key: string, budget: ReadBudget): Promise<ObjectTokenizer> {
    let first;
    try {
      first = await store.readRange(key, { start: 0, end: budget.blockBytes - 1 });
    } catch (err) {
      if (err instanceof RangeNotSatisfiableError && err.totalSize === 0) {
        return new ObjectTokenizer(store, key, 0, budget);
      }
      throw err;
    }
    if (!first) throw new Error(`no object at ${key}`);
    const tokenizer = new ObjectTokenizer(store, key, first.totalSize, budget);
    tokenizer.blocks.set(0, await tokenizer.collect(first.body, first.contentLength, budget.blockBytes));
    return tokenizer;
  }

  supportsRandomAccess(): boolean {
    return true;
  }

  setPosition(position: number): void {
    this.validateLength(position, 'position');
    this.position = position;
  }

  async readBuffer(target: Uint8Array, options?: IReadChunkOptions): Promise<number> {
    const o = this.normalizeOptions(target, options);
    const n = await this.peekBuffer(target, o);
    this.position = o.position + n;
    return n;
  }

  async peekBuffer(target: Uint8Array, options?: IReadChunkOptions): Promise<number> {
    const o = this.normalizeOptions(target, options);
    const n = Math.max(0, Math.min(this.fileInfo.size - o.position, o.length));
    if (!o.mayBeLess && n < o.length) throw new EndOfStreamError();
    if (n === 0) return 0;
    await this.load(o.position, o.position + n);
    const block = this.budget.blockBytes;
    for (let copied = 0; copied < n;) {
      const at = o.position + copied;
      const data = this.blocks.get(Math.floor(at / block)) ?? Buffer.alloc(0);
      const from = at % block;
      const take = Math.min(n - copied, data.length - from);
      // A block shorter than the object says it is: the object changed while it was read.
      if (take <= 0) throw new Error(`${this.key} is shorter than its ${this.fileInfo.size} bytes`);
      target.set(data.subarray(from, from + take), copied);
      copied += take;
    }
    return n;
  }

  /** Fetches the missing blocks covering [start, end) in one ranged GET from the first missing to the last. */
  private async load(start: number, end: number): Promise<void> {
    const block = this.budget.blockBytes;
    const missing: number[] = [];
    for (let i = Math.floor(start / block); i <= Math.floor((end - 1) / block); i++) {
      if (!this.blocks.has(i)) missing.push(i);
    }
    if (missing.length === 0) return;
    const first = missing[0]!;
    const from = first * block;
    const to = Math.min((missing.at(-1)! + 1) * block, this.fileInfo.size);
    if (this.stats.reads + 1 > this.budget.maxReads) {
      throw new ReadBudgetExceededError(`${this.budget.maxReads} ranged reads`);
    }
    if (this.stats.bytes + (to - from) > this.budget.maxBytes) {
      throw new ReadBudgetExceededError(`${this.budget.maxBytes} bytes`);
    }
    const read = await this.store.readRange(this.key, { start: from, end: to - 1 });
    if (!read) throw new Error(`${this.key} disappeared while it was read`);
    const data = await this.collect(read.body, read.contentLength, to - from);
    for (let offset = 0; offset < data.length; offset += block) {
      this.blocks.set(first + offset / block, data.subarray(offset, offset + block));
    }
  }

  /** The body of one ranged GET, refused unread when the store answered with more than was asked for. */
  private async collect(body: Readable, length: number, asked: number): Promise<Buffer> {
    this.stats.reads += 1;
    if (length > asked) {
      body.destroy();
      throw new Error(`the store answered ${length} bytes to a ranged read of ${asked}`);
    }
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk as Buffer);
    const data = Buffer.concat(chunks);
    this.stats.bytes += data.length;
    return data;
  }
}
