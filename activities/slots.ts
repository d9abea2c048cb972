/** At most `size` holders at once; the others wait in arrival order. */
export class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`Slots: size must be a positive integer`);
    this.free = size;
  }

  /** Resolves with the slot's release once one is free; rejects with the signal's reason if it aborts first. */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const grant = () => {
        signal?.removeEventListener('abort', abandon);
        let released = false;
        resolve(() => {
          if (released) return;
          released = true;
          this.free += 1;
          this.next();
        });
      };
      const abandon = () => {
        const at = this.waiting.indexOf(take);
        if (at >= 0) this.waiting.splice(at, 1);
        reject(signal!.reason);
      };
      const take = () => {
        this.free -= 1;
        grant();
      };
      if (this.free > 0 && this.waiting.length === 0) return take();
      this.waiting.push(take);
      signal?.addEventListener('abort', abandon, { once: true });
    });
  }

  /** How many wait for a slot. */
  get queued(): number {
    return this.waiting.length;
  }

  private next() {
    if (this.free > 0) this.waiting.shift()?.();
  }
}
