import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { inject } from 'vitest';
import pg from 'pg';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { createDb, migrateTo, migrateToLatest, type Db } from '../../infra/db/database';
import { AssetRepository } from '../../infra/adapters/asset-repository';
import { BucketRouter } from '../../infra/adapters/bucket-router';
import { FailoverObjectStore } from '../../infra/adapters/failover-object-store';
import { signalAccessed } from '../../api/access-signals';
import { TierRepository } from '../../infra/adapters/tier-repository';
import { S3ObjectStore } from '../../infra/adapters/s3-object-store';
import type { S3Settings } from '../../infra/adapters/s3-settings';
import { createLogger } from '../../infra/logger';
import { signDevToken } from '../../devstack/dev-token';
import { createIoActivities, createMediaActivities } from '../../activities';
import { createIoWorker, createMediaWorker } from '../../worker/create-worker';
import { BlobRepository } from '../../infra/adapters/blob-repository';
import { DeadLetterRepository } from '../../infra/adapters/dead-letter-repository';
import { IntegrityRepository } from '../../infra/adapters/integrity-repository';
import { ReleaseRepository } from '../../infra/adapters/release-repository';
import { AccessRepository } from '../../infra/adapters/access-repository';
import { RegionRepository } from '../../infra/adapters/region-repository';
import type { ViewerCountry } from '../../api/viewer-country';
import { QuotaRepository } from '../../infra/adapters/quota-repository';
import { SweepRepository } from '../../infra/adapters/sweep-repository';
import { WebhookEventPublisher } from '../../infra/adapters/event-publisher';
import { WorkflowGateway } from '../../infra/adapters/workflow-gateway';
import { NoScanner, type Scanner } from '../../infra/adapters/scanner';
import { DecoderPool } from '../../activities/media/tools/decoder-pool';
import { LocalWorkspace } from '../../infra/adapters/workspace';
import { ThumbnailRepository } from '../../infra/adapters/thumbnail-repository';
import { WebhookClient } from '../../infra/adapters/webhook-client';
import { WebhookRepository } from '../../infra/adapters/webhook-repository';
import { AssetAccessRepository } from '../../infra/adapters/asset-access-repository';
import { SecureLinkCdn } from '../../infra/adapters/secure-link-cdn';
import { freePort } from '../../devstack/ports';
import { AccessRecorder } from '../../api/access-recorder';
import { createApp } from '../../api/app';
import type { ConsoleSettings } from '../../api/console-static';
import { WorkflowStarter } from '../../api/workflow-starter';
import { WorkflowStartRepository } from '../../infra/adapters/workflow-start-repository';
import { Slots } from '../../activities/slots';
import { ScanExclusion } from '../../infra/adapters/scan-exclusion';
import type { ApiDeps } from '../../api/deps';
import { MetadataRepository } from '../../infra/adapters/metadata-repository';
import { SearchRepository } from '../../infra/adapters/search-repository';
import { CatalogRepository } from '../../infra/adapters/catalog-repository';
import type { AssetCache } from '../../infra/adapters/asset-cache';
import type { AssetRecord } from '../../api/asset-view';
import { startAssetDocCache } from '../../api/asset-cache-setup';

export const JWT_SECRET = 'test-secret-that-is-at-least-32-characters-long';
export const STORAGE_EVENTS_SECRET = 'storage-events-test-secret';
export const DELIVERY_SECRET = 'delivery-test-secret-0123456789';

let runtimeInstalled = false;

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

/** A fresh database on the run's Postgres, migrated to the latest (or up to `upTo`). */
export async function freshDatabase(upTo?: string): Promise<{ db: Db; url: string }> {
  const { databaseUrl } = inject('stack');
  const name = uniqueName('assetline').replace(/-/g, '_');
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(databaseUrl);
  url.pathname = `/${name}`;
  const db = createDb(url.toString(), 5);
  await (upTo ? migrateTo(db, upTo) : migrateToLatest(db));
  return { db, url: url.toString() };
}

export function s3SettingsFor(bucket: string, endpoint = inject('stack').s3Endpoint): S3Settings {
  const { s3AccessKey, s3SecretKey } = inject('stack');
  return {
    endpoint,
    region: 'us-east-1',
    bucket,
    accessKeyId: s3AccessKey,
    secretAccessKey: s3SecretKey,
    forcePathStyle: true,
  };
}

/** A fresh bucket on the run's S3 server (or the given endpoint). */
export async function freshStore(endpoint?: string, existingBucket?: string): Promise<S3ObjectStore> {
  const bucket = existingBucket ?? uniqueName('assetline');
  const settings = s3SettingsFor(bucket, endpoint);
  if (existingBucket) return new S3ObjectStore(settings);
  const s3 = new S3Client({
    endpoint: settings.endpoint,
    region: settings.region,
    forcePathStyle: true,
    credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey },
  });
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  s3.destroy();
  return new S3ObjectStore(settings);
}

export interface TestPlatform {
  baseUrl: string;
  db: Db;
  store: S3ObjectStore;
  /** The primary (hot) and the warm and cold tiers' buckets. */
  buckets: BucketRouter;
  assets: AssetRepository;
  blobs: BlobRepository;
  quotas: QuotaRepository;
  temporal: Client;
  taskQueue: string;
  /** Where delivery URLs point: the API's own /origin unless `deliveryBaseUrl` was given. */
  deliveryBaseUrl: string;
  /** The origin's read counter; `flush()` writes asset_access now. */
  accessRecorder: AccessRecorder;
  /** The media worker's workspace (LocalWorkspace root): sources/ holds the blobs it fetched; unset without a worker. */
  workDir?: string;
  token(sub: string, extra?: { groups?: string[]; role?: 'operator' }): Promise<string>;
  stop(): Promise<void>;
}

export interface PlatformOptions {
  uploadTtlSeconds?: number;
  maxUploadBytes?: number;
  s3Endpoint?: string;
  /** A bucket that exists (or will, before the first upload) on s3Endpoint; otherwise one is created. */
  s3Bucket?: string;
  /** Start the worker (default true); API-only tests leave workflows unprocessed. */
  worker?: boolean;
  scanner?: Scanner;
  /** Another Temporal server than the shared one (one with dynamic config of its own). */
  temporalAddress?: string;
  /** SCAN_CONCURRENCY of the worker; unset, scans are not limited. */
  scanConcurrency?: number;
  quota?: { maxBytes: number; maxAssets: number };
  multipartThresholdBytes?: number;
  trashDays?: number;
  maxImagePixels?: number;
  /** Webhooks to loopback/private addresses (default true: test receivers listen on 127.0.0.1). */
  allowPrivateNetworks?: boolean;
  /** Set before the app listens, e.g. to point versitygw's webhook at a port chosen in advance. */
  port?: number;
  /** DELIVERY_BASE_URL, e.g. an nginx edge started after the platform on a port chosen in advance. */
  deliveryBaseUrl?: string;
  /** Cache GET /media/:id records here, invalidated through Postgres notifications as in production. */
  assetCache?: AssetCache<AssetRecord>;
  /** UPLOAD_SESSION_GRACE_SECONDS (default 0 here) and UPLOAD_SESSION_MAX_AGE_SECONDS (default 7 days). */
  uploadGraceSeconds?: number;
  uploadSessionMaxAgeSeconds?: number;
  /** RELEASE_WARM_LEAD_SECONDS (default 0: no warm-up before a scheduled release). */
  releaseWarmSeconds?: number;
  /** HOT_DAYS / COLD_DAYS (fractions: 3 / 86_400 is three seconds). */
  hotDays?: number;
  coldDays?: number;
  /**
   * A replica bucket (REPLICA_S3_BUCKET): blobs and renditions are copied there, integrity scans repair from it, and
   * the API's reads fall over to it as api/main.ts wires them.
   */
  replica?: S3ObjectStore;
  /** CDN_PURGE_URL: where the API and worker send PURGE requests (default none: purging is a no-op). */
  cdnPurgeUrl?: string;
  /** Where viewers are (regional rights); default: nothing trusted, nothing looked up, every viewer unknown. */
  viewerCountry?: ViewerCountry;
  /** CORS_ALLOWED_ORIGINS: the API answers these origins and the bucket's CORS is set for them, as at start. */
  corsAllowedOrigins?: string[];
  /** The web console's settings (CONSOLE_TEMPORAL_UI_URL, TEMPORAL_NAMESPACE). */
  console?: ConsoleSettings;
  /** THUMBNAILS_PER_ASSET (default 20). */
  thumbnailsPerAsset?: number;
}

/**
 * The whole platform in this process on the run's real servers: API on a free port, a worker on its own task
 * queue, a database and a bucket of its own.
 */
export async function startPlatform(opts: PlatformOptions = {}): Promise<TestPlatform> {
  const stack = inject('stack');
  if (!runtimeInstalled) {
    // Quiet the worker's Rust core; failures still surface as test errors.
    Runtime.install({
      logger: {
        log: () => undefined,
        trace: () => undefined,
        debug: () => undefined,
        info: () => undefined,
        warn: () => undefined,
        error: (m: string) => console.error(m),
      },
    });
    runtimeInstalled = true;
  }
  const { db, url: databaseUrl } = await freshDatabase();
  const store = await freshStore(opts.s3Endpoint, opts.s3Bucket);
  // The tiers live on the run's own S3 server: a test's s3Endpoint may only come up after the platform.
  const buckets = new BucketRouter({ hot: store, warm: await freshStore(), cold: await freshStore() });
  const assets = new AssetRepository(db);
  const temporalAddress = opts.temporalAddress ?? stack.temporalAddress;
  const connection = await Connection.connect({ address: temporalAddress });
  const temporal = new Client({ connection, namespace: 'default' });
  const taskQueue = uniqueName('assets');
  const workflows = new WorkflowGateway(temporal, taskQueue);
  const events = new WebhookEventPublisher(workflows, new WebhookRepository(db));
  const logger = createLogger('test', process.env.TEST_LOG_LEVEL ?? 'silent');

  const blobs = new BlobRepository(db);
  const acl = new AccessRepository(db);
  // Delivery URLs default to the API's own /origin, so its port is chosen before it listens.
  const apiPort = opts.port ?? (await freePort());
  const deliveryBaseUrl = opts.deliveryBaseUrl ?? `http://127.0.0.1:${apiPort}/origin`;
  const cdn = new SecureLinkCdn({
    baseUrl: deliveryBaseUrl,
    signingSecret: DELIVERY_SECRET,
    ttlSeconds: 3600,
    purgeUrl: opts.cdnPurgeUrl,
    logger,
  });
  const accessRecorder = new AccessRecorder(
    new AssetAccessRepository(db),
    logger,
    10,
    signalAccessed(workflows, logger),
  );
  accessRecorder.start();
  const quotas = new QuotaRepository(db, opts.quota ?? { maxBytes: 10 * 1024 ** 3, maxAssets: 10_000 });
  const webhooks = new WebhookRepository(db);
  const webhookClient = new WebhookClient({ allowPrivateNetworks: opts.allowPrivateNetworks ?? true });
  const workers: Worker[] = [];
  let workersRun: Promise<unknown> | undefined;
  let nativeConnection: NativeConnection | undefined;
  const decoders = new DecoderPool({ size: 2, memoryMb: 2048 });
  let workDir: string | undefined;
  if (opts.worker !== false) {
    nativeConnection = await NativeConnection.connect({ address: temporalAddress });
    const setup = {
      connection: nativeConnection,
      namespace: 'default',
      taskQueue,
      workflowBundle: { codePath: stack.workflowBundlePath },
    };
    const scanner = opts.scanner ?? new NoScanner();
    workDir = path.join(stack.tmpDir, uniqueName('work'));
    const workspace = new LocalWorkspace(workDir);
    workers.push(
      await createIoWorker(
        setup,
        createIoActivities({
          events,
          assets,
          blobs,
          store,
          scanner,
          scanSlots: opts.scanConcurrency ? new Slots(opts.scanConcurrency) : undefined,
          scanExclusion: opts.scanner ? new ScanExclusion(db) : undefined,
          quotas,
          sweeps: new SweepRepository(db),
          webhooks,
          webhookClient,
          cdn,
          warmRenditions: ['poster', 'thumb-256'],
          releases: new ReleaseRepository(db),
          integrity: new IntegrityRepository(db),
          deadLetters: new DeadLetterRepository(db),
          replica: opts.replica,
          buckets,
          tiers: new TierRepository(db),
        }),
      ),
    );
    workers.push(
      await createMediaWorker(
        setup,
        createMediaActivities({
          store,
          blobs,
          thumbnails: new ThumbnailRepository(db),
          replica: opts.replica,
          buckets,
          workspace,
          limits: { maxImagePixels: opts.maxImagePixels ?? 100_000_000 },
          decoders,
        }),
        2,
      ),
    );
    workersRun = Promise.all(workers.map((w) => w.run()));
  }

  const settings = {
    taskQueue,
    jwtSecret: JWT_SECRET,
    uploadTtlSeconds: opts.uploadTtlSeconds ?? 900,
    maxUploadBytes: opts.maxUploadBytes ?? 100 * 1024 * 1024,
    multipartThresholdBytes: opts.multipartThresholdBytes ?? 64 * 1024 ** 2,
    multipartPartBytes: 5 * 1024 ** 2,
    trashDays: opts.trashDays ?? 30,
    hotDays: opts.hotDays ?? 30,
    coldDays: opts.coldDays ?? 90,
    releaseWarmSeconds: opts.releaseWarmSeconds ?? 0,
    uploadGraceSeconds: opts.uploadGraceSeconds ?? 0,
    uploadSessionMaxAgeSeconds: opts.uploadSessionMaxAgeSeconds,
    jsonBodyLimitBytes: 64 * 1024,
    storageEventsSecret: STORAGE_EVENTS_SECRET,
    deliverySigningSecret: DELIVERY_SECRET,
    corsAllowedOrigins: opts.corsAllowedOrigins ?? [],
    console: {
      ...opts.console,
      origins: { delivery: deliveryBaseUrl, uploads: opts.s3Endpoint ?? inject('stack').s3Endpoint },
    },
    thumbnailsPerAsset: opts.thumbnailsPerAsset,
  };
  // A test's own S3 server may only come up after the platform: that test sets its bucket's CORS itself.
  if (opts.corsAllowedOrigins?.length && !opts.s3Endpoint)
    await store.allowBrowserUploads(opts.corsAllowedOrigins);
  const workflowStarts = new WorkflowStartRepository(db);
  const apiStore = opts.replica ? new FailoverObjectStore(store, opts.replica) : store;
  const deps: ApiDeps = {
    workflowStarts,
    deadLetters: new DeadLetterRepository(db),
    assets,
    blobs,
    acl,
    releases: new ReleaseRepository(db),
    regions: new RegionRepository(db),
    viewerCountry: opts.viewerCountry,
    quotas,
    store: apiStore,
    buckets: opts.replica
      ? new BucketRouter({ hot: apiStore, warm: buckets.tier('warm'), cold: buckets.tier('cold') })
      : buckets,
    webhooks,
    webhookClient,
    cdn,
    accessRecorder,
    metadata: new MetadataRepository(db),
    search: new SearchRepository(db),
    catalog: new CatalogRepository(db),
    workflows,
    starter: new WorkflowStarter(workflows, events, workflowStarts, settings, logger),
    events,
    logger,
    settings,
  };
  const assetDocs = opts.assetCache && (await startAssetDocCache(opts.assetCache, databaseUrl, logger));
  deps.assetDocs = assetDocs?.docs;
  const server: Server = await new Promise((resolve) => {
    const s = createApp(deps).listen(apiPort, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    db,
    store,
    buckets,
    assets,
    blobs,
    quotas,
    temporal,
    taskQueue,
    deliveryBaseUrl,
    accessRecorder,
    ...(workDir ? { workDir } : {}),
    token: (sub, extra) => signDevToken(JWT_SECRET, { sub, ...extra }),
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      for (const worker of workers) worker.shutdown();
      await workersRun;
      await decoders.close();
      await nativeConnection?.close();
      await connection.close();
      store.destroy();
      await accessRecorder.stop();
      await assetDocs?.stop();
      await db.destroy();
    },
  };
}
