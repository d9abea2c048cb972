import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import type { Db } from '../infra/db/database';
import { migrateTo, migrateToLatest } from '../infra/db/database';
import { AccessRepository } from '../infra/adapters/access-repository';
import { AssetRepository } from '../infra/adapters/asset-repository';
import { AccessControl } from '../api/services/access-control';
import type { Principal } from '../api/auth';
import { freshDatabase } from './helpers/stack';

const principal = (userId: string): Principal => ({ userId, groups: [], operator: false });

/** Who may read each asset, asked of the access check itself: the migration must not change a single answer. */
async function readers(db: Db, ids: string[], callers: string[]) {
  const access = new AccessControl(new AssetRepository(db), new AccessRepository(db));
  const answers: Record<string, string[]> = {};
  for (const id of ids) {
    answers[id] = [];
    for (const caller of callers) {
      const ok = await access.require(principal(caller), id, 'read').then(
        () => true,
        () => false,
      );
      if (ok) answers[id].push(caller);
    }
  }
  return answers;
}

describe("migration 015: today's '*' read grant becomes the public visibility", () => {
  let db: Db;
  const [everyone, shared, own] = [randomUUID(), randomUUID(), randomUUID()];
  const callers = ['1', '2', '3'];

  beforeAll(async () => {
    ({ db } = await freshDatabase('014-dead-letters'));
    for (const id of [everyone, shared, own]) {
      await sql`insert into media_assets (asset_id, owner_id, bucket, object_key, filename, mime_type, size_bytes,
          status, upload_expires_at, created_at)
        values (${id}, 1, 'b', ${`uploads/1/${id}`}, 'a.png', 'image/png', 10, 'ready', now(),
          '2026-01-02T03:04:05Z')`.execute(db);
    }
    await sql`insert into asset_acl (asset_id, principal, permission) values
      (${everyone}, '*', 'read'), (${everyone}, 'user:2', 'write'), (${shared}, 'user:2', 'read')`.execute(
      db,
    );
  });
  afterAll(async () => db?.destroy());

  it('keeps every read decision, and leaves one concept: visibility', async () => {
    const before = {
      [everyone]: ['1', '2', '3'],
      [shared]: ['1', '2'],
      [own]: ['1'],
    };
    // Before 015 the access check still knew '*': asked by hand here, since today's code no longer does.
    const star = await sql<{
      asset_id: string;
    }>`select asset_id from asset_acl where principal = '*'`.execute(db);
    expect(star.rows.map((r) => r.asset_id)).toEqual([everyone]);

    await migrateToLatest(db);
    expect(await readers(db, [everyone, shared, own], callers)).toEqual(before);
    const rows = await db
      .selectFrom('media_assets')
      .select(['asset_id', 'visibility', 'released_at'])
      .orderBy('asset_id')
      .execute();
    expect(Object.fromEntries(rows.map((r) => [r.asset_id, r.visibility]))).toEqual({
      [everyone]: 'public',
      [shared]: 'private',
      [own]: 'private',
    });
    expect(rows.find((r) => r.asset_id === everyone)!.released_at).toEqual(new Date('2026-01-02T03:04:05Z'));
    const grants = await new AccessRepository(db).grants(everyone);
    // The '*' grant is gone; the editor keeps its write.
    expect(grants).toEqual([{ principal: 'user:2', permission: 'write' }]);
  });

  it('down again, public assets get their * grant back', async () => {
    await migrateTo(db, '014-dead-letters');
    const star = await sql<{
      asset_id: string;
    }>`select asset_id from asset_acl where principal = '*'`.execute(db);
    expect(star.rows.map((r) => r.asset_id)).toEqual([everyone]);
    await migrateToLatest(db);
  });
});
