/**
 * Visibility, the second axis beside the processing status: who may see an asset, and from when to when.
 *
 * - draft: the owner and grantees with write (or delete) only; it processes fully, so the owner can preview it.
 * - private: the owner and its grants (read, write, delete).
 * - unlisted: anyone who has its id or a delivery URL; never listed.
 * - public: anyone; listed in the public catalogue.
 *
 * A scheduled release holds the asset at draft or private until publishAt, then turns it into the visibility asked
 * for; unpublishAt takes it back to private (its owner and grantees keep it). Pure rules: the API plans a change
 * with them and the release clock (the asset's workflow and its activity) applies what is due.
 */
export const VISIBILITIES = ['draft', 'private', 'unlisted', 'public'] as const;
export type Visibility = (typeof VISIBILITIES)[number];
export type ReleaseVisibility = Exclude<Visibility, 'draft'>;

export type AssetEventType = 'asset.transition' | 'asset.published' | 'asset.unpublished';

/** What a caller is to an asset: its owner (or an operator), a grantee, or anyone else. */
export type Relation = 'owner' | 'editor' | 'reader' | 'anyone';

export interface Release {
  visibility: Visibility;
  /** What publishAt turns it into; null when no publish is scheduled. */
  releaseVisibility: ReleaseVisibility | null;
  publishAt: Date | null;
  unpublishAt: Date | null;
  releasedAt: Date | null;
}

/** Open to everyone with the id or a URL. */
export const isOpen = (v: Visibility) => v === 'public' || v === 'unlisted';

export interface ReleaseColumns {
  visibility: Visibility;
  release_visibility: ReleaseVisibility | null;
  publish_at: Date | string | null;
  unpublish_at: Date | string | null;
}

/**
 * The visibility at `now`, to the millisecond: what the release clock will have written once it has caught up. Every
 * read decides by this, so a release is seen at one instant by every API instance and edge, however late the clock.
 */
export function visibilityAt(row: ReleaseColumns, now = new Date()): Visibility {
  const due = (d: Date | string | null) => d !== null && new Date(d) <= now;
  let visibility = row.visibility;
  if (row.release_visibility && due(row.publish_at)) visibility = row.release_visibility;
  if (due(row.unpublish_at) && isOpen(visibility)) visibility = 'private';
  return visibility;
}

export function mayRead(relation: Relation, visibility: Visibility): boolean {
  switch (relation) {
    case 'owner':
    case 'editor':
      return true;
    case 'reader':
      return visibility !== 'draft';
    case 'anyone':
      return isOpen(visibility);
  }
}

export interface ReleaseRequest {
  visibility: Visibility;
  publishAt?: Date | null | undefined;
  unpublishAt?: Date | null | undefined;
}

/** A refused request, naming the field at fault. */
export class ReleaseError extends Error {
  constructor(
    readonly field: 'visibility' | 'publishAt' | 'unpublishAt',
    message: string,
  ) {
    super(message);
  }
}

export interface ReleaseChange {
  release: Release;
  /** published: it became open to everyone; unpublished: it stopped being open. `at`: the instant it did. */
  events: { type: 'asset.published' | 'asset.unpublished'; at: Date }[];
}

/**
 * The release after a request at `now`: a publishAt in the future holds the asset (draft stays draft, anything
 * else is private) until then; one in the past, or none, applies the visibility now.
 */
export function planRelease(current: Release, req: ReleaseRequest, now: Date): ReleaseChange {
  const publishAt = req.publishAt ?? null;
  const unpublishAt = req.unpublishAt ?? null;
  if (req.visibility === 'draft' && (publishAt || unpublishAt)) {
    throw new ReleaseError(
      'visibility',
      'cannot be draft with a schedule: a draft is never released; schedule the visibility it is released as (private, unlisted or public)',
    );
  }
  if (unpublishAt) {
    const floor = publishAt && publishAt > now ? publishAt : now;
    if (unpublishAt <= floor) {
      throw new ReleaseError(
        'unpublishAt',
        publishAt && publishAt > now
          ? 'unpublishAt must be after publishAt'
          : 'unpublishAt must be in the future',
      );
    }
  }
  if (publishAt && publishAt > now) {
    const held: Visibility = current.visibility === 'draft' ? 'draft' : 'private';
    return transition(
      current,
      {
        visibility: held,
        releaseVisibility: req.visibility as ReleaseVisibility,
        publishAt,
        unpublishAt,
        releasedAt: current.releasedAt,
      },
      now,
    );
  }
  return transition(
    current,
    {
      visibility: req.visibility,
      releaseVisibility: null,
      publishAt: null,
      unpublishAt,
      releasedAt: current.releasedAt,
    },
    now,
  );
}

/** What is due at `now`: the scheduled publish, then the unpublish. Nothing due: the same release, no events. */
export function advanceRelease(current: Release, now: Date): ReleaseChange {
  let next = current;
  const events: ReleaseChange['events'] = [];
  if (next.publishAt && next.releaseVisibility && next.publishAt <= now) {
    const published = transition(
      next,
      {
        ...next,
        visibility: next.releaseVisibility,
        releaseVisibility: null,
        publishAt: null,
      },
      next.publishAt,
    );
    next = published.release;
    events.push(...published.events);
  }
  if (next.unpublishAt && next.unpublishAt <= now && !next.publishAt) {
    const taken = transition(
      next,
      { ...next, visibility: isOpen(next.visibility) ? 'private' : next.visibility, unpublishAt: null },
      next.unpublishAt,
    );
    next = taken.release;
    events.push(...taken.events);
  }
  return { release: next, events };
}

/** The instants the release clock must wake at, soonest first. */
export function releaseDueTimes(release: Release): Date[] {
  return [release.publishAt, release.unpublishAt]
    .filter((d): d is Date => d !== null)
    .sort((a, b) => a.getTime() - b.getTime());
}

function transition(from: Release, to: Release, at: Date): ReleaseChange {
  const wasOpen = isOpen(from.visibility);
  const nowOpen = isOpen(to.visibility);
  if (!wasOpen && nowOpen) {
    return { release: { ...to, releasedAt: at }, events: [{ type: 'asset.published', at }] };
  }
  if (wasOpen && !nowOpen) return { release: to, events: [{ type: 'asset.unpublished', at }] };
  return { release: to, events: [] };
}

/**
 * A delivery token's expiry: never past the unpublish instant, since the asset stops being open then. The owner's
 * tokens too; they ask again.
 */
export function clampExpiry(expiresUnixSeconds: number, unpublishAt: Date | null): number {
  if (!unpublishAt) return expiresUnixSeconds;
  return Math.min(expiresUnixSeconds, Math.floor(unpublishAt.getTime() / 1000));
}
