import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, request } from './helpers/http';
import { noisyPng } from './helpers/generate-media';
import { sha256, uploadFile, waitForStatus } from './helpers/media';
import { startPlatform, type TestPlatform } from './helpers/stack';

const TRASH_SECONDS = 4;

/** Deletion goes through the trash: restorable for TRASH_DAYS, then purged (here a few seconds). */
describe('trash, restore and purge', () => {
  let platform: TestPlatform;
  let token: string;

  beforeAll(async () => {
    platform = await startPlatform({ trashDays: TRASH_SECONDS / 86_400 });
    token = await platform.token('6161');
  });
  afterAll(async () => platform?.stop());

  const get = (id: string) => request('GET', `${platform.baseUrl}/media/${id}`, { token });
  const content = (id: string) =>
    fetch(`${platform.baseUrl}/media/${id}/content`, {
      headers: { authorization: `Bearer ${token}` },
      redirect: 'manual',
    });

  it('a deleted asset is no longer served, and a restore brings it back', async () => {
    const id = await uploadFile(platform.baseUrl, token, await noisyPng(32, 32), 'image/png', 'r.png');
    await waitForStatus(platform.baseUrl, token, id, ['ready']);
    expect((await content(id)).status).toBe(302);

    expect((await request('DELETE', `${platform.baseUrl}/media/${id}`, { token })).status).toBe(202);
    const trashed = await waitForStatus(platform.baseUrl, token, id, ['deleted']);
    expect(trashed.statusReason).toMatch(/in the trash until/);
    expect((await content(id)).status).toBe(409);

    const restored = await request('POST', `${platform.baseUrl}/media/${id}/restore`, { token });
    expect(restored.status).toBe(202);
    const back = await waitForStatus(platform.baseUrl, token, id, ['ready']);
    expect(back.statusReason).toBe('restored from the trash');
    expect((await content(id)).status).toBe(302);
    const again = await request('POST', `${platform.baseUrl}/media/${id}/restore`, { token });
    expect(again.status).toBe(409);
  });

  it('purging drops one reference; the last purge removes bytes, renditions, tags and grants', async () => {
    const data = await noisyPng(48, 48);
    const a = await uploadFile(platform.baseUrl, token, data, 'image/png', 'a.png');
    await waitForStatus(platform.baseUrl, token, a, ['ready']);
    const b = await uploadFile(platform.baseUrl, token, data, 'image/png', 'b.png');
    await waitForStatus(platform.baseUrl, token, b, ['ready']);
    await request('PUT', `${platform.baseUrl}/media/${a}/acl`, {
      token,
      body: { grants: [{ principal: 'user:77', permission: 'read' }] },
    });
    const blob = (await platform.blobs.get(sha256(data)))!;
    expect(blob.refcount).toBe(2);

    await request('DELETE', `${platform.baseUrl}/media/${a}`, { token });
    await waitForStatus(platform.baseUrl, token, a, ['deleted']);
    // Still in the trash: nothing released yet.
    expect(await platform.blobs.get(blob.sha256)).toMatchObject({ refcount: 2 });
    await eventually(
      'the purge',
      () => platform.blobs.get(blob.sha256),
      (row) => row?.refcount === 1,
    );
    expect(await platform.store.head(blob.object_key)).not.toBeNull();
    const tombstone = await eventually(
      'the tombstone',
      () => get(a),
      (r) => /^purged/.test(String(r.body.statusReason)),
    );
    expect(tombstone.status).toBe(200);
    const tags = await platform.db
      .selectFrom('asset_metadata')
      .select('key')
      .where('asset_id', '=', a)
      .execute();
    const grants = await platform.db
      .selectFrom('asset_acl')
      .select('principal')
      .where('asset_id', '=', a)
      .execute();
    expect([tags, grants]).toEqual([[], []]);

    await request('DELETE', `${platform.baseUrl}/media/${b}`, { token });
    // The purge is recorded last, after the bytes and renditions are gone.
    await eventually(
      'the last purge',
      () => get(b),
      (r) => /^purged/.test(String(r.body.statusReason)),
    );
    expect(await platform.blobs.get(blob.sha256)).toBeUndefined();
    expect(await platform.store.head(blob.object_key)).toBeNull();
    expect(await platform.store.list(`renditions/${blob.sha256}/`)).toEqual([]);
  });
});
