import { sql } from 'kysely';
import type { Db } from '../db/database';
import type { AssetEventRow, MediaAssetRow, NewMediaAsset } from '../db/schema';
import type { AssetStatus } from '../../domain/asset-status';
import { ASSET_CHANGED_CHANNEL, notifyAssetChanged } from './asset-changes';
import { lockOwnerUsage, QuotaExceededError, quotaExcess, type QuotaLimits } from './quota-repository';

/** What recording a transition found: the asset, and whether its owner has webhooks to tell. */
export interface RecordedTransition {
  found: boolean;
  subscribed: boolean;
}

export interface TransitionRecord {
  assetId: string;
  eventId: string;
  from: AssetStatus | null;
  to: AssetStatus;
  reason: string;
  details: Record<string, unknown>;
  checksumSha256?: string | undefined;
  /** The pipeline stage this event belongs to; with to = 'failed' it becomes the asset's failed stage. */
  stage?: string | undefined;
}

export interface AssetView {
  asset: MediaAssetRow;
  metadata: Record<string, string>;
  events: AssetEventRow[];
}

/** All SQL about assets. No decisions are made here: callers decide, this stores and fetches. */
export class AssetRepository {
  constructor(private readonly db: Db) {}

  /**
   * With `quota`, the owner's usage row is locked first and the asset only written when it fits (else
   * QuotaExceededError): concurrent upload URLs of one owner are decided one after the other, never all on the same
   * reading of the usage.
   */
  async createPending(
    asset: NewMediaAsset,
    metadata: Record<string, string>,
    eventId: string,
    quota?: QuotaLimits,
  ): Promise<void> {
    if (!quota) return insertPending(this.db, asset, metadata, eventId);
    await this.db.transaction().execute(async (tx) => {
      const usage = await lockOwnerUsage(tx, String(asset.owner_id));
      const excess = quotaExcess(quota, usage, Number(asset.size_bytes));
      if (excess) throw new QuotaExceededError(excess, usage);
      await insertPending(tx, asset, metadata, eventId);
    });
  }

  async findById(assetId: string): Promise<MediaAssetRow | undefined> {
    return this.db.selectFrom('media_assets').selectAll().where('asset_id', '=', assetId).executeTakeFirst();
  }

  /** The upload session the owner asked for under this idempotency key (migration 016). */
  async findByIdempotencyKey(ownerId: string, key: string): Promise<MediaAssetRow | undefined> {
    return this.db
      .selectFrom('media_assets')
      .selectAll()
      .where('owner_id', '=', ownerId)
      .where('idempotency_key', '=', key)
      .executeTakeFirst();
  }

  /** A renewed upload session: its URL expires later. Only while it is still pending; false otherwise. */
  async renewUpload(assetId: string, expiresAt: Date): Promise<boolean> {
    const result = await this.db
      .updateTable('media_assets')
      .set({ upload_expires_at: expiresAt, updated_at: new Date() })
      .where('asset_id', '=', assetId)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    if (result.numUpdatedRows === 0n) return false;
    await notifyAssetChanged(this.db, assetId);
    return true;
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

  /**
   * Idempotent by eventId: a retried activity whose first attempt committed changes nothing. `found` is false when
   * there is no such asset: its upload URL request failed after Temporal had accepted the workflow start (the API
   * removed the row), so the workflow has nothing to record and nobody holds its URL. `subscribed`: the owner has a
   * webhook, so the event is worth a fan-out (asked in the same statement: most owners have none).
   */
  async recordTransition(t: TransitionRecord): Promise<RecordedTransition> {
    // One statement, so one round trip and one commit (it was seven: begin, the lock, the event, the status, the
    // version bump, the notification, commit). Its parts run in the order their data needs: the row is locked,
    // the event inserted (nothing when its id is already there), and only then the row changed and announced.
    const failed = t.to === 'failed';
    const { rows } = await sql<RecordedTransition>`
      with asset as (
        select asset_id from media_assets where asset_id = ${t.assetId} for update
      ), event as (
        insert into asset_events (event_id, asset_id, from_status, to_status, reason, details, stage)
        select ${t.eventId}, asset_id, ${t.from}::text, ${t.to}::text, ${t.reason}::text,
               ${JSON.stringify(t.details)}::jsonb, ${t.stage ?? null}::text
          from asset
        on conflict (event_id) do nothing
        returning asset_id
      ), changed as (
        update media_assets a
           set status = ${t.to}, status_reason = ${t.reason}, updated_at = now(),
               doc_version = a.doc_version + 1
               ${t.checksumSha256 ? sql`, checksum_sha256 = ${t.checksumSha256}` : sql``}
               ${failed ? sql`, failed_stage = ${t.stage ?? null}, failure_attempts = a.failure_attempts + 1` : sql``}
          from event
         where a.asset_id = event.asset_id
        returning pg_notify(${ASSET_CHANGED_CHANNEL}, ${t.assetId})
      )
      select exists (select 1 from asset) as found, (select count(*) from changed) as changed,
             exists (select 1 from webhooks w join media_assets a on a.owner_id = w.owner_id
                      where a.asset_id = ${t.assetId}) as subscribed
    `.execute(this.db);
    return { found: rows[0]?.found ?? false, subscribed: rows[0]?.subscribed ?? false };
  }

  /** A purged asset keeps its row (status deleted) as a tombstone; its tags and grants go. */
  async tombstone(assetId: string): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('asset_metadata').where('asset_id', '=', assetId).execute();
      await tx.deleteFrom('asset_acl').where('asset_id', '=', assetId).execute();
    });
  }

  async setDetectedType(assetId: string, mimeType: string): Promise<void> {
    await this.db
      .updateTable('media_assets')
      .set({ mime_type: mimeType })
      .where('asset_id', '=', assetId)
      .execute();
  }

  /** Copies the blob's extracted media facts into the asset's metadata as media.* keys, so they can be filtered. */
  async copyMediaMetadata(assetId: string, info: Record<string, unknown>): Promise<void> {
    const rows = Object.entries(info)
      .filter(([, v]) => v !== undefined && v !== null && typeof v !== 'object')
      .map(([key, value]) => ({ asset_id: assetId, key: `media.${key}`.slice(0, 64), value: String(value) }));
    for (const [group, nested] of Object.entries(info)) {
      if (nested && typeof nested === 'object' && !Array.isArray(nested)) {
        for (const [key, value] of Object.entries(nested)) {
          if (value !== undefined && value !== null && typeof value !== 'object') {
            rows.push({ asset_id: assetId, key: `media.${group}.${key}`.slice(0, 64), value: String(value) });
          }
        }
      }
    }
    await this.db.transaction().execute(async (tx) => {
      await tx
        .deleteFrom('asset_metadata')
        .where('asset_id', '=', assetId)
        .where('key', 'like', 'media.%')
        .execute();
      if (rows.length > 0) await tx.insertInto('asset_metadata').values(rows).execute();
    });
  }

  async listFailed(limit: number, before?: { updatedAt: Date; assetId: string }) {
    let query = this.db
      .selectFrom('media_assets')
      .select([
        'asset_id',
        'owner_id',
        'mime_type',
        'failed_stage',
        'status_reason',
        'failure_attempts',
        'updated_at',
      ])
      .where('status', '=', 'failed');
    if (before) {
      query = query.where((eb) =>
        eb.or([
          eb('updated_at', '<', before.updatedAt),
          eb.and([eb('updated_at', '=', before.updatedAt), eb('asset_id', '<', before.assetId)]),
        ]),
      );
    }
    return query.orderBy('updated_at', 'desc').orderBy('asset_id', 'desc').limit(limit).execute();
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }
}

/** The pending row, its metadata, its first event and the workflow it is owed. */
async function insertPending(
  executor: Db,
  asset: NewMediaAsset,
  metadata: Record<string, string>,
  eventId: string,
): Promise<void> {
  // One statement (data-modifying CTEs) instead of a transaction of five: it is atomic all the same, and it is on
  // the path of every upload URL, where each round trip to Postgres counts.
  const entries = Object.entries(metadata);
  const event = {
    event_id: eventId,
    asset_id: asset.asset_id,
    from_status: null,
    to_status: 'pending' as const,
    reason: 'upload URL issued',
    details: JSON.stringify({ sizeBytes: Number(asset.size_bytes), mimeType: asset.mime_type }),
  };
  const withAsset = executor
    .with('asset', (db) => db.insertInto('media_assets').values(asset).returning('asset_id'))
    .with('event', (db) => db.insertInto('asset_events').values(event).returning('event_id'))
    // Its workflow is owed from the same instant (WorkflowStartRepository).
    .with('owed', (db) =>
      db.insertInto('workflow_starts').values({ asset_id: asset.asset_id }).returning('asset_id'),
    );
  if (entries.length === 0) {
    await withAsset.selectFrom('event').select('event_id').execute();
    return;
  }
  await withAsset
    .insertInto('asset_metadata')
    .values(entries.map(([key, value]) => ({ asset_id: asset.asset_id, key, value })))
    .execute();
}
