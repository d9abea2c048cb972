/** At most `size` slots held at once; the others wait in arrival order. */
export class Slots {
  private free: number;
  private readonly waiting: { count: number; take: () => void }[] = [];

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`Slots: size must be a positive integer`);
    this.free = size;
  }

  /**
   * Resolves with the release of `count` slots (default one; `size` to run alone) once they are free; rejects with
   * the signal's reason if it aborts first. Later arrivals wait behind a waiter for many, so it is not starved.
   */
  acquire(signal?: AbortSignal, count = 1): Promise<() => void> {
    count = Math.min(Math.max(1, count), this.size);
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const grant = () => {
        signal?.removeEventListener('abort', abandon);
        let released = false;
        resolve(() => {
          if (released) return;
          released = true;
          this.free += count;
          this.next();
        });
      };
      const abandon = () => {
        const at = this.waiting.findIndex((w) => w.take === take);
        if (at >= 0) this.waiting.splice(at, 1);
        reject(signal!.reason);
        // A waiter for many leaving may let those behind it in.
        this.next();
      };
      const take = () => {
        this.free -= count;
        grant();
      };
      if (this.free >= count && this.waiting.length === 0) return take();
      this.waiting.push({ count, take });
      signal?.addEventListener('abort', abandon, { once: true });
    });
  }

  /** How many wait for a slot. */
  get queued(): number {
    return this.waiting.length;
  }

  private next() {
    while (this.waiting.length > 0 && this.free >= this.waiting[0]!.count) this.waiting.shift()!.take();
  }
}
