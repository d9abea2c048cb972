import { describe, expect, it } from 'vitest';
import { releaseAsOf } from '../api/asset-summary';

/** What GET /media shows of a scheduled release at an instant, whether or not the release clock has run yet. */
describe('releaseAsOf', () => {
  const doc = {
    assetId: 'a',
    visibility: 'draft' as const,
    publishAs: 'public' as const,
    publishAt: '2026-12-07T10:00:00.000Z',
    unpublishAt: '2026-12-07T12:00:00.000Z',
    releasedAt: null,
  };

  it('shows the schedule unchanged before publishAt', () => {
    expect(releaseAsOf(doc, new Date('2026-12-07T09:59:59.999Z'))).toEqual(doc);
  });

  it('shows the release from publishAt on, released at publishAt', () => {
    expect(releaseAsOf(doc, new Date('2026-12-07T10:00:00.000Z'))).toEqual({
      ...doc,
      visibility: 'public',
      publishAs: null,
      publishAt: null,
      releasedAt: '2026-12-07T10:00:00.000Z',
    });
  });

  it('shows it private again from unpublishAt, with its release instant kept', () => {
    expect(releaseAsOf(doc, new Date('2026-12-07T12:00:01.000Z'))).toEqual({
      ...doc,
      visibility: 'private',
      publishAs: null,
      publishAt: null,
      unpublishAt: null,
      releasedAt: '2026-12-07T10:00:00.000Z',
    });
  });
});
