import { sql } from 'kysely';
import type { Db } from '../db/database';
import type { AssetEventRow, MediaAssetRow, NewMediaAsset } from '../db/schema';
import type { AssetStatus } from '../asset-status';

export interface TransitionRecord {
  assetId: string;
  eventId: string;
  from: AssetStatus | null;
  to: AssetStatus;
  reason: string;
  details: Record<string, unknown>;
  checksumSha256?: string | undefined;
}

export interface AssetView {
  asset: MediaAssetRow;
  metadata: Record<string, string>;
  events: AssetEventRow[];
}

/** All SQL about assets. No decisions are made here: callers decide, this stores and fetches. */
export class AssetRepository {
  constructor(private readonly db: Db) {}

  async createPending(
    asset: NewMediaAsset,
    metadata: Record<string, string>,
    eventId: string,
  ): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx.insertInto('media_assets').values(asset).execute();
      const entries = Object.entries(metadata);
      if (entries.length > 0) {
        await tx
          .insertInto('asset_metadata')
          .values(entries.map(([key, value]) => ({ asset_id: asset.asset_id, key, value })))
          .execute();
      }
      await tx
        .insertInto('asset_events')
        .values({
          event_id: eventId,
          asset_id: asset.asset_id,
          from_status: null,
          to_status: 'pending',
          reason: 'upload URL issued',
          details: JSON.stringify({ sizeBytes: Number(asset.size_bytes), mimeType: asset.mime_type }),
        })
        .execute();
    });
  }

  /** Used when the workflow could not be started, so no record is left that nothing will ever move. */
  async deletePending(assetId: string): Promise<void> {
    await this.db
      .deleteFrom('media_assets')
      .where('asset_id', '=', assetId)
      .where('status', '=', 'pending')
      .execute();
  }

  async findById(assetId: string): Promise<MediaAssetRow | undefined> {
    return this.db.selectFrom('media_assets').selectAll().where('asset_id', '=', assetId).executeTakeFirst();
  }

  async findByObject(bucket: string, objectKey: string): Promise<MediaAssetRow | undefined> {
    return this.db
      .selectFrom('media_assets')
      .selectAll()
      .where('bucket', '=', bucket)
      .where('object_key', '=', objectKey)
      .executeTakeFirst();
  }

  async view(assetId: string): Promise<AssetView | undefined> {
    const asset = await this.findById(assetId);
    if (!asset) return undefined;
    const [metadataRows, events] = await Promise.all([
      this.db.selectFrom('asset_metadata').select(['key', 'value']).where('asset_id', '=', assetId).execute(),
      this.db
        .selectFrom('asset_events')
        .selectAll()
        .where('asset_id', '=', assetId)
        .orderBy('occurred_at')
        .orderBy('event_id')
        .execute(),
    ]);
    return { asset, metadata: Object.fromEntries(metadataRows.map((r) => [r.key, r.value])), events };
  }

  /** Idempotent by eventId: a retried activity whose first attempt committed changes nothing. */
  async recordTransition(t: TransitionRecord): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      const inserted = await tx
        .insertInto('asset_events')
        .values({
          event_id: t.eventId,
          asset_id: t.assetId,
          from_status: t.from,
          to_status: t.to,
          reason: t.reason,
          details: JSON.stringify(t.details),
        })
        .onConflict((oc) => oc.column('event_id').doNothing())
        .returning('event_id')
        .executeTakeFirst();
      if (!inserted) return;
      await tx
        .updateTable('media_assets')
        .set({
          status: t.to,
          status_reason: t.reason,
          updated_at: sql<Date>`now()`,
          ...(t.checksumSha256 ? { checksum_sha256: t.checksumSha256 } : {}),
        })
        .where('asset_id', '=', t.assetId)
        .execute();
    });
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }
}
