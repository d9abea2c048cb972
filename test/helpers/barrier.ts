/**
 * One held call, to force an interleaving: `reached` resolves when the call arrives at `pass()`, which then waits
 * until `open()`. `used` says whether it arrived.
 */
export class Barrier {
  readonly reached: Promise<void>;
  used = false;
  private arrive!: () => void;
  private release!: () => void;
  private readonly opened = new Promise<void>((r) => (this.release = r));

  constructor() {
    this.reached = new Promise<void>((r) => (this.arrive = r));
  }

  async pass(): Promise<void> {
    this.used = true;
    this.arrive();
    await this.opened;
  }

  open(): void {
    this.release();
  }
}
