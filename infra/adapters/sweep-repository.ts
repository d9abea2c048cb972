import type { Db } from '../db/database';
import type { AssetStatus } from '../../domain/asset-status';

/** The SQL the orphan sweep asks: which of a page of object keys some row still accounts for. */
export class SweepRepository {
  constructor(private readonly db: Db) {}

  /** Of these keys in the bucket, the ones that are the upload object of an asset in one of the statuses. */
  async uploadKeysOfAssets(bucket: string, keys: string[], statuses: AssetStatus[]): Promise<Set<string>> {
    if (keys.length === 0) return new Set();
    const rows = await this.db
      .selectFrom('media_assets')
      .select('object_key')
      .where('bucket', '=', bucket)
      .where('object_key', 'in', keys)
      .where('status', 'in', statuses)
      .execute();
    return new Set(rows.map((r) => r.object_key));
  }

  /** The blobs among these hashes, with the attempt prefix their renditions were published under. */
  async blobsByHash(
    shas: string[],
  ): Promise<Map<string, { renditionPrefix: string | null; replicaKey: string | null }>> {
    if (shas.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('blobs')
      .select(['sha256', 'rendition_prefix', 'replica_key'])
      .where('sha256', 'in', shas)
      .execute();
    return new Map(
      rows.map((r) => [r.sha256, { renditionPrefix: r.rendition_prefix, replicaKey: r.replica_key }]),
    );
  }

  /** One page of ready blobs in hash order, after the given hash. */
  async readyBlobsAfter(bucket: string, afterSha: string | null, limit: number) {
    let query = this.db
      .selectFrom('blobs')
      .select(['sha256', 'object_key'])
      .where('bucket', '=', bucket)
      .where('status', '=', 'ready');
    if (afterSha) query = query.where('sha256', '>', afterSha);
    return query.orderBy('sha256').limit(limit).execute();
  }

  async readyAssetsOnBlob(sha256: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('media_assets')
      .select('asset_id')
      .where('blob_sha256', '=', sha256)
      .where('status', '=', 'ready')
      .orderBy('asset_id')
      .execute();
    return rows.map((r) => r.asset_id);
  }
}
