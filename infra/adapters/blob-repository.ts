import { sql } from 'kysely';
import type { Db } from '../db/database';
import type { BlobRenditionRow, BlobRow, BlobStatus, ScanStatus } from '../db/schema';
import { notifyBlobAssetsChanged } from './asset-changes';

export interface BlobClaim {
  assetId: string;
  sha256: string;
  bucket: string;
  objectKey: string;
  sizeBytes: number;
  mimeType: string;
}

export interface NewRendition {
  name: string;
  objectKey: string;
  mimeType: string;
  width?: number | undefined;
  height?: number | undefined;
  bitRate?: number | undefined;
  durationSeconds?: number | undefined;
  sizeBytes: number;
}

/** All SQL about content-addressed blobs and their renditions. */
export class BlobRepository {
  constructor(private readonly db: Db) {}

  /**
   * Points the asset at the blob with these bytes, creating it or taking a reference. The insert's conflict on the
   * primary key serialises two identical uploads completing at once; a retried call changes nothing twice. A blob
   * whose last reference is gone (`deleting`) is never joined: the caller finishes its removal (`removeDeleting`,
   * which this insert waits for while it runs) and claims again, as the first owner of new bytes.
   */
  async claim(c: BlobClaim): Promise<{ role: 'owner' | 'duplicate'; blob: BlobRow } | { role: 'deleting' }> {
    return this.db.transaction().execute(async (tx) => {
      const asset = await tx
        .selectFrom('media_assets')
        .select('blob_sha256')
        .where('asset_id', '=', c.assetId)
        .forUpdate()
        .executeTakeFirstOrThrow();
      if (asset.blob_sha256 === null) {
        const taken = await tx
          .insertInto('blobs')
          .values({
            sha256: c.sha256,
            bucket: c.bucket,
            object_key: c.objectKey,
            size_bytes: c.sizeBytes,
            mime_type: c.mimeType,
            refcount: 1,
            status: 'processing',
            owner_asset_id: c.assetId,
          })
          .onConflict((oc) =>
            oc
              .column('sha256')
              .doUpdateSet({ refcount: sql`blobs.refcount + 1`, updated_at: sql`now()` })
              .where('blobs.status', '<>', 'deleting'),
          )
          .returning('sha256')
          .executeTakeFirst();
        if (!taken) return { role: 'deleting' as const };
        await tx
          .updateTable('media_assets')
          .set({ blob_sha256: c.sha256 })
          .where('asset_id', '=', c.assetId)
          .execute();
      }
      const blob = await tx
        .selectFrom('blobs')
        .selectAll()
        .where('sha256', '=', asset.blob_sha256 ?? c.sha256)
        .executeTakeFirstOrThrow();
      return { role: blob.owner_asset_id === c.assetId ? ('owner' as const) : ('duplicate' as const), blob };
    });
  }

  async get(sha256: string): Promise<BlobRow | undefined> {
    return this.db.selectFrom('blobs').selectAll().where('sha256', '=', sha256).executeTakeFirst();
  }

  async setScan(sha256: string, status: ScanStatus, signature: string | null): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx
        .updateTable('blobs')
        .set({ scan_status: status, scan_signature: signature, updated_at: sql`now()` })
        .where('sha256', '=', sha256)
        .execute();
      await notifyBlobAssetsChanged(tx, sha256);
    });
  }

  async setStatus(
    sha256: string,
    status: BlobStatus,
    reason: string | null,
    changes: { objectKey?: string } = {},
  ): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx
        .updateTable('blobs')
        .set({
          status,
          status_reason: reason,
          updated_at: sql`now()`,
          ...(changes.objectKey ? { object_key: changes.objectKey } : {}),
        })
        .where('sha256', '=', sha256)
        .execute();
      await notifyBlobAssetsChanged(tx, sha256);
    });
  }

  async setMediaInfo(sha256: string, info: Record<string, unknown>, placeholder?: string): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx
        .updateTable('blobs')
        .set({
          media_info: JSON.stringify(info),
          ...(placeholder !== undefined ? { placeholder } : {}),
          updated_at: sql`now()`,
        })
        .where('sha256', '=', sha256)
        .execute();
      await notifyBlobAssetsChanged(tx, sha256);
    });
  }

  /** Switches the blob to a complete set of renditions in one transaction: readers see the old set or the new. */
  async publishRenditions(sha256: string, prefix: string, renditions: NewRendition[]): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('blob_renditions').where('blob_sha256', '=', sha256).execute();
      if (renditions.length > 0) {
        await tx
          .insertInto('blob_renditions')
          .values(
            renditions.map((r) => ({
              blob_sha256: sha256,
              name: r.name,
              object_key: r.objectKey,
              mime_type: r.mimeType,
              width: r.width ?? null,
              height: r.height ?? null,
              bit_rate: r.bitRate !== undefined ? Math.round(r.bitRate) : null,
              duration_seconds: r.durationSeconds ?? null,
              size_bytes: r.sizeBytes,
            })),
          )
          .execute();
      }
      await tx
        .updateTable('blobs')
        .set({ rendition_prefix: prefix, status: 'ready', status_reason: null, updated_at: sql`now()` })
        .where('sha256', '=', sha256)
        .execute();
      await notifyBlobAssetsChanged(tx, sha256);
    });
  }

  async renditions(sha256: string): Promise<BlobRenditionRow[]> {
    return this.db
      .selectFrom('blob_renditions')
      .selectAll()
      .where('blob_sha256', '=', sha256)
      .orderBy('name')
      .execute();
  }

  /**
   * Drops the asset's reference; a blob still being processed for a deleted owner is handed to another asset that
   * references it. At zero the blob becomes `deleting` and is returned: the caller removes it with `removeDeleting`.
   * The row outlives its objects so that a claim of the same bytes can never take a reference to bytes being
   * deleted, nor see them and skip its own copy.
   */
  async release(assetId: string, sha256: string): Promise<{ removed: BlobRow | null }> {
    return this.db.transaction().execute(async (tx) => {
      // The blob's row before the asset's: publishing and every status change lock the blob, then its assets
      // (doc_version), so the other order deadlocked a release against a publish of the same blob.
      await tx.selectFrom('blobs').select('sha256').where('sha256', '=', sha256).forNoKeyUpdate().execute();
      const detached = await tx
        .updateTable('media_assets')
        .set({ blob_sha256: null })
        .where('asset_id', '=', assetId)
        .where('blob_sha256', '=', sha256)
        .returning('asset_id')
        .executeTakeFirst();
      if (!detached) return { removed: null };
      const blob = await tx
        .updateTable('blobs')
        .set({ refcount: sql`refcount - 1`, updated_at: sql`now()` })
        .where('sha256', '=', sha256)
        .returningAll()
        .executeTakeFirstOrThrow();
      if (blob.refcount === 0) {
        await tx
          .updateTable('blobs')
          .set({ status: 'deleting', status_reason: 'no references left' })
          .where('sha256', '=', sha256)
          .execute();
        return { removed: blob };
      }
      if (blob.owner_asset_id === assetId && blob.status === 'processing') {
        const heir = await tx
          .selectFrom('media_assets')
          .select('asset_id')
          .where('blob_sha256', '=', sha256)
          .orderBy('created_at')
          .limit(1)
          .executeTakeFirst();
        if (heir) {
          await tx
            .updateTable('blobs')
            .set({ owner_asset_id: heir.asset_id })
            .where('sha256', '=', sha256)
            .execute();
        }
      }
      return { removed: null };
    });
  }

  /**
   * Removes a `deleting` blob: `removeObjects` deletes its objects while this holds the row's lock, then the row
   * goes (its renditions cascade). A claim of the same bytes waits on that lock and then inserts a new row, so its
   * copy always lands after the deletes; a second remover (a retry, a claim finishing the job) finds nothing.
   * False when there was nothing to remove.
   */
  async removeDeleting(sha256: string, removeObjects: (blob: BlobRow) => Promise<void>): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const blob = await tx
        .selectFrom('blobs')
        .selectAll()
        .where('sha256', '=', sha256)
        .where('status', '=', 'deleting')
        .forUpdate()
        .executeTakeFirst();
      if (!blob) return false;
      await removeObjects(blob);
      await tx.deleteFrom('blobs').where('sha256', '=', sha256).execute();
      return true;
    });
  }

  /** A retry of a failed blob moves its processing to the asset asking for it. */
  async takeOver(sha256: string, assetId: string): Promise<boolean> {
    const result = await this.db
      .updateTable('blobs')
      .set({ owner_asset_id: assetId, status: 'processing', status_reason: null, updated_at: sql`now()` })
      .where('sha256', '=', sha256)
      .where('status', '=', 'failed')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }
}
