import type { AssetView } from '../infra/adapters/asset-repository';
import type { BlobRenditionRow, BlobRow } from '../infra/db/schema';
import type { AssetState } from '../workflows/definitions';
import { releaseAsOf, renderAssetSummary } from './asset-summary';

export { MEDIA_METADATA_PREFIX } from './asset-summary';

/** Everything GET /media/:id shows that lives in the database: what the asset cache holds. */
export function renderAssetRecord(
  view: AssetView,
  blob: BlobRow | undefined,
  renditions: BlobRenditionRow[],
) {
  return {
    ...renderAssetSummary(view.asset, view.metadata, blob, renditions),
    events: view.events.map((e) => ({
      type: e.event_type,
      from: e.from_status,
      to: e.to_status,
      stage: e.stage,
      reason: e.reason,
      details: e.details,
      at: new Date(e.occurred_at).toISOString(),
    })),
  };
}

export type AssetRecord = ReturnType<typeof renderAssetRecord>;

/** The JSON shape of an asset: its record and the workflow's live stage, which is never cached. */
export function withLiveStage(record: AssetRecord, live: AssetState | null) {
  return { ...releaseAsOf(record), stage: live ? { name: live.stage, percent: live.percent } : null };
}
