import { describe, expect, it } from 'vitest';
import {
  blobKey,
  blobOfKey,
  quarantineKey,
  renditionAttemptPrefix,
  renditionsRoot,
  uploadKey,
} from '../domain/object-keys';

const SHA = 'ab'.repeat(32);

describe('object-key layout', () => {
  it('builds each kind of key, and the parser finds the blob of every blob-owned key', () => {
    expect(uploadKey('42', 'a-1')).toBe('uploads/42/a-1');
    expect(blobKey(SHA)).toBe(`blobs/ab/ab/${SHA}`);
    expect(quarantineKey(SHA)).toBe(`quarantine/${SHA}`);
    expect(renditionAttemptPrefix(SHA, 'try-1')).toBe(`renditions/${SHA}/try-1/`);
    expect(renditionAttemptPrefix(SHA, 'x').startsWith(renditionsRoot(SHA))).toBe(true);
    for (const key of [blobKey(SHA), quarantineKey(SHA), `${renditionAttemptPrefix(SHA, 'x')}thumb.webp`]) {
      expect(blobOfKey(key)).toBe(SHA);
    }
  });

  it('names no blob for keys of another shape', () => {
    for (const key of [uploadKey('1', SHA), `blobs/${SHA}`, 'quarantine/not-a-sha', `other/${SHA}`, '']) {
      expect(blobOfKey(key)).toBeNull();
    }
  });
});
