import { sql } from 'kysely';
import type { Db } from '../db/database';
import type { AssetStatus } from '../../domain/asset-status';
import type { AssetEventType, Release, ReleaseChange } from '../../domain/visibility';
import { notifyAssetChanged } from './asset-changes';

export interface AppliedRelease {
  release: Release;
  status: AssetStatus;
  /** asset_events ids of asset.published / asset.unpublished, for the webhook fan-out. */
  eventIds: string[];
  changed: boolean;
}

/**
 * An asset's visibility and scheduled release (media_assets, migration 015). Every change is planned under the
 * row's lock from what the row holds then, so an owner's edit and the release clock's due publish cannot both act
 * on what the other has already changed.
 */
export class ReleaseRepository {
  constructor(private readonly db: Db) {}

  async read(assetId: string): Promise<{ release: Release; status: AssetStatus } | undefined> {
    const row = await this.db
      .selectFrom('media_assets')
      .select(COLUMNS)
      .where('asset_id', '=', assetId)
      .executeTakeFirst();
    return row && { release: toRelease(row), status: row.status };
  }

  /**
   * Plans (under the lock) and writes a change with its events; undefined when there is no such asset. The plan
   * may throw to refuse (the transaction then changes nothing).
   */
  async apply(
    assetId: string,
    plan: (current: Release, status: AssetStatus) => ReleaseChange,
    reason: string,
  ): Promise<AppliedRelease | undefined> {
    return this.db.transaction().execute(async (tx) => {
      const row = await tx
        .selectFrom('media_assets')
        .select(COLUMNS)
        .where('asset_id', '=', assetId)
        .forUpdate()
        .executeTakeFirst();
      if (!row) return undefined;
      const current = toRelease(row);
      const { release, events } = plan(current, row.status);
      const changed = !sameRelease(current, release);
      if (!changed) return { release, status: row.status, eventIds: [], changed };
      await tx
        .updateTable('media_assets')
        .set({
          visibility: release.visibility,
          release_visibility: release.releaseVisibility,
          publish_at: release.publishAt,
          unpublish_at: release.unpublishAt,
          released_at: release.releasedAt,
          updated_at: sql<Date>`now()`,
        })
        .where('asset_id', '=', assetId)
        .execute();
      const eventIds: string[] = [];
      for (const { type, at } of events) {
        const eventId = releaseEventId(assetId, type, at);
        const inserted = await tx
          .insertInto('asset_events')
          .values({
            event_id: eventId,
            asset_id: assetId,
            from_status: row.status,
            to_status: row.status,
            reason,
            details: JSON.stringify({ from: current.visibility, to: release.visibility }),
            event_type: type,
          })
          .onConflict((oc) => oc.column('event_id').doNothing())
          .returning('event_id')
          .executeTakeFirst();
        if (inserted) eventIds.push(eventId);
      }
      await notifyAssetChanged(tx, assetId);
      return { release, status: row.status, eventIds, changed };
    });
  }
}

/**
 * The instant is part of the id: the scheduled one for a due release, so the release clock can announce it again
 * after a crash between the commit and the announcement (the row has moved on by then).
 */
export const releaseEventId = (assetId: string, type: AssetEventType, at: Date) =>
  `${assetId}/${type}/${at.toISOString()}`;

const COLUMNS = [
  'status',
  'visibility',
  'release_visibility',
  'publish_at',
  'unpublish_at',
  'released_at',
] as const;

function toRelease(row: {
  visibility: Release['visibility'];
  release_visibility: Release['releaseVisibility'];
  publish_at: Date | null;
  unpublish_at: Date | null;
  released_at: Date | null;
}): Release {
  const date = (d: Date | null) => (d ? new Date(d) : null);
  return {
    visibility: row.visibility,
    releaseVisibility: row.release_visibility,
    publishAt: date(row.publish_at),
    unpublishAt: date(row.unpublish_at),
    releasedAt: date(row.released_at),
  };
}

const time = (d: Date | null) => d?.getTime() ?? null;
const sameRelease = (a: Release, b: Release) =>
  a.visibility === b.visibility &&
  a.releaseVisibility === b.releaseVisibility &&
  time(a.publishAt) === time(b.publishAt) &&
  time(a.unpublishAt) === time(b.unpublishAt) &&
  time(a.releasedAt) === time(b.releasedAt);
