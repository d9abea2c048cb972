import type { AssetCache } from '../infra/adapters/asset-cache';
import type { AssetRepository } from '../infra/adapters/asset-repository';
import type { BlobRepository } from '../infra/adapters/blob-repository';
import type { Logger } from '../infra/logger';
import { renderAssetRecord, type AssetRecord } from './asset-view';

/** The database part of GET /media/:id, read fresh. */
export async function loadAssetRecord(
  deps: { assets: AssetRepository; blobs: BlobRepository },
  assetId: string,
): Promise<AssetRecord | undefined> {
  const view = await deps.assets.view(assetId);
  if (!view) return undefined;
  const sha = view.asset.blob_sha256;
  const [blob, renditions] = sha
    ? await Promise.all([deps.blobs.get(sha), deps.blobs.renditions(sha)])
    : [undefined, []];
  return renderAssetRecord(view, blob, renditions);
}

interface Read {
  stale: boolean;
}

const RECOVERY_INTERVAL_MS = 1000;

/**
 * Cache-aside for asset records, used only while every change is known to reach it: the invalidator must be
 * listening, and every delete must have landed. A read that an invalidation overtakes (it loaded the row before
 * the change committed) does not store what it loaded, so a stale record cannot be put back after its delete.
 */
export class AssetDocCache {
  private listening = false;
  /** A delete failed or notifications were missed: nothing in the cache can be trusted until it is cleared. */
  private dirty = false;
  private recovery: NodeJS.Timeout | undefined;
  private readonly reads = new Map<string, Set<Read>>();

  constructor(
    private readonly cache: AssetCache<AssetRecord>,
    private readonly logger: Logger,
  ) {}

  get active(): boolean {
    return this.listening && !this.dirty;
  }

  /** `version` is the row's doc_version, read by the caller's access check: only a copy of that version is served. */
  async read(
    assetId: string,
    version: number,
    load: () => Promise<AssetRecord | undefined>,
  ): Promise<AssetRecord | undefined> {
    if (this.active) {
      try {
        const hit = await this.cache.get(assetId);
        if (hit?.version === version) return hit;
      } catch (err) {
        this.logger.warn({ err, assetId }, 'asset cache read failed; reading the database');
      }
    }
    const read: Read = { stale: !this.active };
    const pending = this.reads.get(assetId) ?? new Set<Read>();
    this.reads.set(assetId, pending.add(read));
    try {
      const record = await load();
      if (record && !read.stale && this.active) {
        await this.cache.set(assetId, record).catch((err: unknown) => {
          this.logger.warn({ err, assetId }, 'asset cache write failed');
        });
      }
      return record;
    } finally {
      pending.delete(read);
      if (pending.size === 0) this.reads.delete(assetId);
    }
  }

  async invalidate(assetId: string): Promise<void> {
    for (const read of this.reads.get(assetId) ?? []) read.stale = true;
    try {
      await this.cache.delete(assetId);
    } catch (err) {
      this.logger.error(
        { err, assetId },
        'asset cache delete failed; bypassing the cache until it is cleared',
      );
      this.dirty = true;
      this.scheduleRecovery();
    }
  }

  /** The invalidator lost its connection: changes may go unannounced until it is back. */
  suspend(): void {
    this.listening = false;
    for (const pending of this.reads.values()) for (const read of pending) read.stale = true;
  }

  /** Listening again (or for the first time): whatever changed meanwhile is unknown, so the cache starts empty. */
  async resume(): Promise<void> {
    await this.purge();
    this.listening = true;
  }

  close(): void {
    this.listening = false;
    clearTimeout(this.recovery);
  }

  private async purge(): Promise<void> {
    try {
      await this.cache.clear();
      this.dirty = false;
    } catch (err) {
      this.logger.error({ err }, 'asset cache clear failed; bypassing the cache until it succeeds');
      this.dirty = true;
      this.scheduleRecovery();
    }
  }

  private scheduleRecovery(): void {
    if (this.recovery) return;
    this.recovery = setTimeout(() => {
      this.recovery = undefined;
      void this.purge();
    }, RECOVERY_INTERVAL_MS);
    this.recovery.unref();
  }
}
