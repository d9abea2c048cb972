import type { ApiDeps } from '../deps';
import { AccessControl } from './access-control';
import { AccessService } from './access-service';
import { AssetCommands } from './asset-commands';
import { AssetListings } from './asset-listings';
import { AssetReads } from './asset-reads';
import { CatalogService } from './catalog';
import { CompanionService } from './companion-service';
import { MetadataService } from './metadata-service';
import { ReleaseService } from './release-service';
import { RegionService } from './region-service';
import { UploadService } from './upload-service';
import { WebhookService } from './webhook-service';
import { ThumbnailService } from './thumbnail-service';

/**
 * The API's decisions, each built from the adapters it needs and the one WorkflowGateway. Routes parse, authorise
 * (`access`), call one of these and answer; rows stay in here, and what comes out is already the view.
 */
export function createServices(deps: ApiDeps) {
  const access = new AccessControl(deps.assets, deps.acl);
  const uploads = new UploadService(deps);
  const reads = new AssetReads(deps);
  return {
    access,
    uploads,
    companion: new CompanionService({ uploads, access, store: deps.store }),
    assets: new AssetCommands(deps),
    reads,
    thumbnails: new ThumbnailService({ ...deps, reads, maxCached: deps.settings.thumbnailsPerAsset }),
    listings: new AssetListings(deps),
    catalog: new CatalogService(deps),
    grants: new AccessService(deps),
    regions: new RegionService(deps),
    metadata: new MetadataService(deps),
    releases: new ReleaseService(deps),
    webhooks: new WebhookService(deps),
  };
}

export type Services = ReturnType<typeof createServices>;
