import { sql } from 'kysely';
import type { Db } from '../db/database';

/**
 * One advisory lock key for every scan of every worker on this database: workers usually share one clamd, and
 * suspects are rare, so also holding off scans that go to another clamd costs little.
 */
const SCANNER_LOCK_KEY = 0x5ca7c1a;

export type ScanMode = 'shared' | 'exclusive';

export interface ScanExclusionOptions {
  /** A holder whose connection says nothing this long loses its lock (default 60 s): a frozen worker. */
  idleSeconds?: number;
  /** How often a holder's connection says something while its scan runs (default 15 s). */
  pingMs?: number;
}

/**
 * Keeps a suspect's scan apart from every other worker's: ordinary scans hold the scanner's advisory lock shared, a
 * suspect's (an input the scanner went away on before) holds it alone. activities/slots.ts does this within one
 * worker; this does it across the workers that share the database (and, as deployed, the clamd). Postgres queues a
 * request behind a waiting one it conflicts with, so a suspect waiting for the scans in flight is not overtaken by
 * scans that arrive after it.
 *
 * Each scan holds a connection for its length, so a worker gives this a pool of its own, as large as its scan
 * slots: scans then never take the connections the rest of its activities need.
 */
export class ScanExclusion {
  private readonly idleSeconds: number;
  private readonly pingMs: number;

  constructor(
    private readonly db: Db,
    options: ScanExclusionOptions = {},
  ) {
    this.idleSeconds = options.idleSeconds ?? 60;
    this.pingMs = options.pingMs ?? 15_000;
  }

  /**
   * Runs `scan` holding the lock in `mode`, in a transaction of its own: the lock ends with it however it ends, so
   * none is left behind on a pooled connection, and a worker that dies takes its lock with it. One that hangs (or is
   * frozen) stops the pings, and Postgres ends its session after idleSeconds. Between statements the transaction
   * holds no snapshot, so its length holds nothing else back.
   */
  async during<T>(mode: ScanMode, scan: () => Promise<T>): Promise<T> {
    return this.db.transaction().execute(async (trx) => {
      await sql`select set_config('idle_in_transaction_session_timeout', ${`${this.idleSeconds}s`}, true)`.execute(
        trx,
      );
      await (
        mode === 'exclusive'
          ? sql`select pg_advisory_xact_lock(${SCANNER_LOCK_KEY}::bigint)`
          : sql`select pg_advisory_xact_lock_shared(${SCANNER_LOCK_KEY}::bigint)`
      ).execute(trx);
      // A ping that fails means the session is gone: the commit below says so.
      const ping = setInterval(() => void sql`select 1`.execute(trx).catch(() => undefined), this.pingMs);
      try {
        return await scan();
      } finally {
        clearInterval(ping);
      }
    });
  }

  /** Ends the pool it was given. */
  close(): Promise<void> {
    return this.db.destroy();
  }
}
