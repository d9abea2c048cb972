import { sql } from 'kysely';
import type { Db } from '../db/database';
import type { AssetStatus } from '../../domain/asset-status';
import type { IntegrityStatus } from '../db/schema';

export interface ChunkManifest {
  chunkBytes: number;
  chunkSha256: string[];
}

export interface BlobForCheck {
  sha256: string;
  /** The primary, or a warm/cold tier's bucket the blob moved to. */
  bucket: string;
  objectKey: string;
  sizeBytes: number;
  replicaKey: string | null;
  manifest: ChunkManifest | null;
}

/** All SQL about chunk manifests, replica copies and integrity checks of blobs. */
export class IntegrityRepository {
  constructor(private readonly db: Db) {}

  /** Written before the blob row exists; the first verification of these bytes wins, a retry changes nothing. */
  async saveManifest(sha256: string, manifest: ChunkManifest): Promise<void> {
    await this.db
      .insertInto('blob_manifests')
      .values({ sha256, chunk_bytes: manifest.chunkBytes, chunk_sha256: manifest.chunkSha256 })
      .onConflict((oc) => oc.column('sha256').doNothing())
      .execute();
  }

  /** Copies the upload's manifest onto its blob (once). */
  async adoptManifest(sha256: string): Promise<void> {
    await sql`update blobs b set chunk_bytes = m.chunk_bytes, chunk_sha256 = m.chunk_sha256
              from blob_manifests m
              where m.sha256 = b.sha256 and b.sha256 = ${sha256} and b.chunk_sha256 is null`.execute(this.db);
  }

  async setReplicaKey(sha256: string, replicaKey: string): Promise<void> {
    await this.db
      .updateTable('blobs')
      .set({ replica_key: replicaKey })
      .where('sha256', '=', sha256)
      .execute();
  }

  /** Ready blobs not checked since `checkedBefore`, least recently checked first: the scan's cursor. */
  async due(limit: number, checkedBefore: Date, exclude: readonly string[]): Promise<string[]> {
    let query = this.db
      .selectFrom('blobs')
      .select('sha256')
      .where('status', '=', 'ready')
      .where((eb) =>
        eb.or([eb('integrity_checked_at', 'is', null), eb('integrity_checked_at', '<', checkedBefore)]),
      )
      .orderBy(sql`integrity_checked_at asc nulls first`)
      .orderBy('sha256')
      .limit(limit);
    if (exclude.length > 0) query = query.where('sha256', 'not in', exclude);
    return (await query.execute()).map((r) => r.sha256);
  }

  async blobForCheck(sha256: string): Promise<BlobForCheck | null> {
    const row = await this.db
      .selectFrom('blobs')
      .leftJoin('blob_manifests', 'blob_manifests.sha256', 'blobs.sha256')
      .select([
        'blobs.sha256',
        'blobs.bucket',
        'blobs.object_key',
        'blobs.size_bytes',
        'blobs.replica_key',
        sql<number | null>`coalesce(blobs.chunk_bytes, blob_manifests.chunk_bytes)`.as('chunk_bytes'),
        sql<string[] | null>`coalesce(blobs.chunk_sha256, blob_manifests.chunk_sha256)`.as('chunk_sha256'),
      ])
      .where('blobs.sha256', '=', sha256)
      .where('blobs.status', '=', 'ready')
      .executeTakeFirst();
    if (!row) return null;
    return {
      sha256: row.sha256,
      bucket: row.bucket,
      objectKey: row.object_key,
      sizeBytes: Number(row.size_bytes),
      replicaKey: row.replica_key,
      manifest:
        row.chunk_bytes && row.chunk_sha256
          ? { chunkBytes: row.chunk_bytes, chunkSha256: row.chunk_sha256 }
          : null,
    };
  }

  async recordCheck(sha256: string, status: IntegrityStatus, detail: string | null): Promise<void> {
    await this.db
      .updateTable('blobs')
      .set({ integrity_status: status, integrity_detail: detail, integrity_checked_at: sql`now()` })
      .where('sha256', '=', sha256)
      .execute();
  }

  /** The assets a damaged blob takes down: those still showing it (not in the trash, not failed already). */
  async assetsToFail(sha256: string): Promise<{ assetId: string; status: AssetStatus }[]> {
    const rows = await this.db
      .selectFrom('media_assets')
      .select(['asset_id', 'status'])
      .where('blob_sha256', '=', sha256)
      .where('status', 'not in', ['deleted', 'failed'])
      .execute();
    return rows.map((r) => ({ assetId: r.asset_id, status: r.status }));
  }
}
