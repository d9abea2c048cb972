import type { ConsoleSettings } from './console-static';
import type { Visibility } from '../domain/visibility';
import type { ReleaseRepository } from '../infra/adapters/release-repository';
import type { AccessRepository } from '../infra/adapters/access-repository';
import type { AssetRepository } from '../infra/adapters/asset-repository';
import type { BlobRepository } from '../infra/adapters/blob-repository';
import type { EventPublisher } from '../infra/adapters/event-publisher';
import type { QuotaRepository } from '../infra/adapters/quota-repository';
import type { ObjectStore } from '../infra/adapters/object-store';
import type { BucketRouter } from '../infra/adapters/bucket-router';
import type { WebhookClient } from '../infra/adapters/webhook-client';
import type { WebhookRepository } from '../infra/adapters/webhook-repository';
import type { Logger } from '../infra/logger';
import type { Cdn } from '../infra/adapters/cdn';
import type { AccessRecorder } from './access-recorder';
import type { MetadataRepository } from '../infra/adapters/metadata-repository';
import type { SearchRepository } from '../infra/adapters/search-repository';
import type { CatalogRepository } from '../infra/adapters/catalog-repository';
import type { AssetDocCache } from './asset-docs';
import type { WorkflowStartRepository } from '../infra/adapters/workflow-start-repository';
import type { WorkflowGateway } from '../infra/adapters/workflow-gateway';
import type { WorkflowStarter } from './workflow-starter';
import type { DeadLetterRepository } from '../infra/adapters/dead-letter-repository';
import type { ViewerCountry } from './viewer-country';
import type { RegionRepository } from '../infra/adapters/region-repository';

/** What the API needs, injected so tests build the same app on their own servers. */
export interface ApiDeps {
  assets: AssetRepository;
  blobs: BlobRepository;
  acl: AccessRepository;
  releases: ReleaseRepository;
  /** Regional policies (PUT /media/:id/regions). */
  regions: RegionRepository;
  quotas: QuotaRepository;
  events: EventPublisher;
  /** The outbox of asset workflows owed by upload URLs. */
  workflowStarts: WorkflowStartRepository;
  /** Poison inputs kept for inspection (GET /admin/dead-letters). */
  deadLetters: DeadLetterRepository;
  store: ObjectStore;
  /** The storage tiers' stores by bucket name: an original is read from the bucket its blob row names. */
  buckets?: BucketRouter;
  webhooks: WebhookRepository;
  /** Checks webhook targets at registration (SSRF rule). */
  webhookClient: WebhookClient;
  /** Builds delivery URLs (signed or public) and purges the edge. */
  cdn: Cdn;
  /** Counts the origin's reads; flushed in batches into asset_access. */
  accessRecorder: AccessRecorder;
  /** The user's tags (PATCH /media/:id/metadata). */
  metadata: MetadataRepository;
  /** GET /media listings. */
  search: SearchRepository;
  /** GET /catalog: public, released assets. */
  catalog: CatalogRepository;
  /** Hot asset records for GET /media/:id; absent, every read goes to the database. */
  assetDocs?: AssetDocCache | undefined;
  /** The one door to Temporal, shared with the outbox's starter and the access recorder. */
  workflows: WorkflowGateway;
  /** Starts the workflows upload URLs owe: right after their answers, and by the sweep. */
  starter: WorkflowStarter;
  /** Where a viewer is (regional rights); absent, every viewer is unknown. */
  viewerCountry?: ViewerCountry | undefined;
  logger: Logger;
  settings: {
    taskQueue: string;
    jwtSecret: string;
    uploadTtlSeconds: number;
    maxUploadBytes: number;
    multipartThresholdBytes: number;
    multipartPartBytes: number;
    trashDays: number;
    /** DEFAULT_VISIBILITY and RELEASE_WARM_LEAD_SECONDS. */
    defaultVisibility?: Visibility;
    releaseWarmSeconds?: number;
    /** UPLOAD_SESSION_GRACE_SECONDS and UPLOAD_SESSION_MAX_AGE_SECONDS. */
    uploadGraceSeconds?: number;
    uploadSessionMaxAgeSeconds?: number;
    /** HOT_DAYS / COLD_DAYS, handed to each asset's workflow for its storage tiering. */
    hotDays: number;
    coldDays: number;
    jsonBodyLimitBytes: number;
    /** API_MAX_CONCURRENT_REQUESTS / API_MAX_QUEUED_REQUESTS; without them, every request is served at once. */
    maxConcurrentRequests?: number;
    maxQueuedRequests?: number;
    storageEventsSecret?: string | undefined;
    /** DELIVERY_SIGNING_SECRET: the origin verifies delivery tokens as the edge does. */
    deliverySigningSecret: string;
    /** CORS_ALLOWED_ORIGINS: browser pages on these origins may call the API. */
    corsAllowedOrigins?: string[];
    /** The web console's settings (CONSOLE_TEMPORAL_UI_URL, TEMPORAL_NAMESPACE). */
    console?: ConsoleSettings;
    /** THUMBNAILS_PER_ASSET: frames at a time cached per asset (GET /media/{id}/thumbnail). */
    thumbnailsPerAsset?: number;
  };
}
