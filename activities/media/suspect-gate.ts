/**
 * Media work on one worker: any number of ordinary runs at once, or one suspect run alone. A suspect is an attempt
 * whose earlier attempts were lost (the worker died or hung under it). While one waits for the ordinary runs to end
 * or runs, other runs are turned away (busy: retried later, maybe elsewhere) instead of waiting here: a poison input
 * that kills the worker again then takes nothing but itself down, so only its own losses add up to a dead letter.
 */
export class SuspectGate {
  private ordinary = 0;
  private suspect: 'none' | 'waiting' | 'running' = 'none';
  private idle: (() => void) | undefined;

  /**
   * Resolves with the release once the run may start; throws GateBusy at once when a suspect holds the gate, and
   * rejects with the signal's reason if it aborts while a suspect waits.
   */
  async enter(suspect: boolean, signal?: AbortSignal): Promise<() => void> {
    if (this.suspect !== 'none') throw new GateBusy();
    if (!suspect) {
      this.ordinary += 1;
      return once(() => {
        this.ordinary -= 1;
        if (this.ordinary === 0) this.idle?.();
      });
    }
    this.suspect = 'waiting';
    try {
      if (this.ordinary > 0) await this.untilIdle(signal);
    } catch (err) {
      this.suspect = 'none';
      throw err;
    }
    this.suspect = 'running';
    return once(() => {
      this.suspect = 'none';
    });
  }

  get running(): { ordinary: number; suspect: 'none' | 'waiting' | 'running' } {
    return { ordinary: this.ordinary, suspect: this.suspect };
  }

  private untilIdle(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const abandon = () => {
        this.idle = undefined;
        reject(signal!.reason);
      };
      if (signal?.aborted) return abandon();
      signal?.addEventListener('abort', abandon, { once: true });
      this.idle = () => {
        this.idle = undefined;
        signal?.removeEventListener('abort', abandon);
        resolve();
      };
    });
  }
}

export class GateBusy extends Error {
  override name = 'GateBusy';
  constructor() {
    super('this worker runs an input suspected of killing it, alone: try again later');
  }
}

function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}
