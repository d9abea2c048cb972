import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Db } from '../infra/db/database';
import { freshDatabase } from './helpers/stack';

describe('a database connection lost while checked out', () => {
  let url: string;
  let admin: Db;
  beforeAll(async () => {
    ({ db: admin, url } = await freshDatabase());
  });
  afterAll(async () => admin?.destroy());

  it('fails that work with the cause, does not take the process down, and the pool carries on', async () => {
    const db = createDb(url, 2);
    const crashes: unknown[] = [];
    const onCrash = (err: unknown) => crashes.push(err);
    process.on('uncaughtException', onCrash);
    try {
      const failed = await db
        .transaction()
        .execute(async (trx) => {
          const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx);
          // Killed from outside while the client is checked out and idle: the socket closes between queries.
          await sql`select pg_terminate_backend(${rows[0]!.pid})`.execute(admin);
          await new Promise((resolve) => setTimeout(resolve, 300));
          await sql`select 1`.execute(trx);
        })
        .then(
          () => null,
          (err: unknown) => err,
        );
      expect(failed).toBeInstanceOf(Error);
      expect(crashes).toEqual([]);
      // Both pool slots serve again: the dead client was dropped, not handed out.
      const answers = await Promise.all(
        [1, 2, 3, 4].map((n) => sql<{ n: number }>`select ${n}::int as n`.execute(db)),
      );
      expect(answers.map((a) => a.rows[0]!.n)).toEqual([1, 2, 3, 4]);
    } finally {
      process.off('uncaughtException', onCrash);
      await db.destroy();
    }
  });
});
