import type { DeliveryAccess } from '../../domain/delivery/delivery-access';

/**
 * The edge in front of the origin (api/routes/origin.ts). It builds the URLs clients fetch an asset's bytes from, and
 * evicts or pre-fetches them. `path` is below the asset's prefix: `original`, `r/<rendition>` or `hls/...` (see
 * domain/delivery/asset-paths.ts).
 */
export interface Cdn {
  /**
   * A signed URL valid for the configured TTL (never past `notAfter`, binding the regional policy), or for an open
   * asset without a policy a stable unsigned one.
   */
  deliveryUrl(assetId: string, path: string, access: DeliveryAccess): string;
  /**
   * The URL its viewers will fetch once `access` applies, fetchable now: a public one carries a token the origin
   * accepts before the release (the edge is expected to leave the query out of its cache key).
   */
  warmUrl(assetId: string, path: string, access: DeliveryAccess): string;
  /** Evicts whatever the edge holds of the asset, so a revoked or deleted asset stops being served from cache. */
  purge(assetId: string): Promise<void>;
  /** Fetches each URL once so the edge holds it; failures are logged, never thrown. */
  warm(urls: string[]): Promise<void>;
}
