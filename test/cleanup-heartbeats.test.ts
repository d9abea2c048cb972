import { describe, expect, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { discardUploadActivity } from '../activities/discard-upload';
import type { ObjectStore } from '../infra/adapters/object-store';
import { freshStore } from './helpers/stack';

describe('clean-up activities heartbeat while they work', () => {
  it('a slow discard of an upload beats every few seconds, so a lost worker is noticed within 20 s', async () => {
    const store = await freshStore();
    await store.write('uploads/slow', Buffer.from('left behind'));
    // The real store, slowed: listing and aborting a key's multipart uploads takes 6 s here.
    const slow: ObjectStore = Object.create(store) as ObjectStore;
    slow.abortMultipartUploads = async (key) => {
      await new Promise((resolve) => setTimeout(resolve, 6_000));
      return store.abortMultipartUploads(key);
    };
    const env = new MockActivityEnvironment();
    const beats: number[] = [];
    env.on('heartbeat', () => beats.push(Date.now()));

    const result = await env.run(discardUploadActivity({ store: slow }), { objectKey: 'uploads/slow' });

    expect(result).toEqual({ abortedMultipart: 0 });
    expect(await store.head('uploads/slow')).toBeNull();
    expect(beats.length).toBeGreaterThanOrEqual(1);
    store.destroy();
  }, 20_000);
});
