import { describe, expect, it } from 'vitest';
import {
  advanceRelease,
  clampExpiry,
  mayRead,
  planRelease,
  ReleaseError,
  visibilityAt,
  type Release,
} from '../domain/visibility';

const T = (minutes: number) => new Date(Date.UTC(2026, 11, 24, 18, 0) + minutes * 60_000);
const NOW = T(0);
const base = (over: Partial<Release> = {}): Release => ({
  visibility: 'private',
  releaseVisibility: null,
  publishAt: null,
  unpublishAt: null,
  releasedAt: null,
  ...over,
});

describe('visibility rules (domain/visibility.ts)', () => {
  it('who reads what', () => {
    const table = (['owner', 'editor', 'reader', 'anyone'] as const).map((r) =>
      (['draft', 'private', 'unlisted', 'public'] as const).map((v) => mayRead(r, v)),
    );
    expect(table).toEqual([
      [true, true, true, true],
      [true, true, true, true],
      [false, true, true, true],
      [false, false, true, true],
    ]);
  });

  it('a future publishAt holds the asset (draft stays draft, anything else private) and schedules the rest', () => {
    const fromDraft = planRelease(
      base({ visibility: 'draft' }),
      { visibility: 'public', publishAt: T(60) },
      NOW,
    );
    expect(fromDraft).toEqual({
      release: base({ visibility: 'draft', releaseVisibility: 'public', publishAt: T(60) }),
      events: [],
    });
    // Public now, scheduled again: it leaves sight now, and says so.
    const fromPublic = planRelease(
      base({ visibility: 'public', releasedAt: T(-60) }),
      { visibility: 'unlisted', publishAt: T(60), unpublishAt: T(120) },
      NOW,
    );
    expect(fromPublic.release).toMatchObject({
      visibility: 'private',
      releaseVisibility: 'unlisted',
      unpublishAt: T(120),
    });
    expect(fromPublic.events).toEqual([{ type: 'asset.unpublished', at: NOW }]);
  });

  it('a past or absent publishAt applies now, released at now', () => {
    const change = planRelease(base(), { visibility: 'public', publishAt: T(-5) }, NOW);
    expect(change.release).toEqual(base({ visibility: 'public', releasedAt: NOW }));
    expect(change.events).toEqual([{ type: 'asset.published', at: NOW }]);
    // Between the open ones nothing is published again.
    expect(planRelease(change.release, { visibility: 'unlisted' }, T(1)).events).toEqual([]);
  });

  it.each([
    [{ visibility: 'draft' as const, publishAt: T(60) }, 'visibility'],
    [{ visibility: 'draft' as const, unpublishAt: T(60) }, 'visibility'],
    [{ visibility: 'public' as const, publishAt: T(60), unpublishAt: T(60) }, 'unpublishAt'],
    [{ visibility: 'public' as const, unpublishAt: NOW }, 'unpublishAt'],
  ])('refuses %j, naming %s', (req, field) => {
    expect(() => planRelease(base(), req, NOW)).toThrow(ReleaseError);
    try {
      planRelease(base(), req, NOW);
    } catch (err) {
      expect((err as ReleaseError).field).toBe(field);
    }
  });

  it('advances what is due, at the scheduled instants, publish before unpublish', () => {
    const scheduled = base({
      visibility: 'draft',
      releaseVisibility: 'public',
      publishAt: T(10),
      unpublishAt: T(20),
    });
    expect(advanceRelease(scheduled, T(9))).toEqual({ release: scheduled, events: [] });
    const published = advanceRelease(scheduled, T(11));
    expect(published.release).toEqual(base({ visibility: 'public', unpublishAt: T(20), releasedAt: T(10) }));
    expect(published.events).toEqual([{ type: 'asset.published', at: T(10) }]);
    // A clock asleep through both instants applies both, each at its own instant.
    const both = advanceRelease(scheduled, T(30));
    expect(both.release).toEqual(base({ visibility: 'private', releasedAt: T(10) }));
    expect(both.events).toEqual([
      { type: 'asset.published', at: T(10) },
      { type: 'asset.unpublished', at: T(20) },
    ]);
  });

  it('reads decide by the visibility at the instant, ahead of the clock', () => {
    const row = {
      visibility: 'draft' as const,
      release_visibility: 'public' as const,
      publish_at: T(10),
      unpublish_at: T(20),
    };
    expect([T(9), T(10), T(19), T(20)].map((t) => visibilityAt(row, t))).toEqual([
      'draft',
      'public',
      'public',
      'private',
    ]);
  });

  it('no token outlives the unpublish instant', () => {
    const now = Math.floor(NOW.getTime() / 1000);
    expect(clampExpiry(now + 3600, T(10))).toBe(now + 600);
    expect(clampExpiry(now + 60, T(10))).toBe(now + 60);
    expect(clampExpiry(now + 3600, null)).toBe(now + 3600);
  });
});
