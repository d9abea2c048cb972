import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { inject } from 'vitest';
import pg from 'pg';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { createDb, migrateToLatest, type Db } from '../../shared/db/database';
import { AssetRepository } from '../../shared/adapters/asset-repository';
import { S3ObjectStore, type S3Settings } from '../../shared/adapters/s3-object-store';
import { createLogger } from '../../shared/logger';
import { signDevToken } from '../../shared/dev-token';
import { createIoActivities, createMediaActivities } from '../../activities';
import { createIoWorker, createMediaWorker } from '../../worker/create-worker';
import { BlobRepository } from '../../shared/adapters/blob-repository';
import { AccessRepository } from '../../shared/adapters/access-repository';
import { NoScanner, type Scanner } from '../../shared/adapters/scanner';
import { LocalWorkspace } from '../../shared/adapters/workspace';
import { createApp } from '../../api/app';
import type { ApiDeps } from '../../api/deps';

export const JWT_SECRET = 'test-secret-that-is-at-least-32-characters-long';
export const STORAGE_EVENTS_SECRET = 'storage-events-test-secret';

let runtimeInstalled = false;

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

/** A fresh database (migrated) on the run's Postgres. */
export async function freshDatabase(): Promise<{ db: Db; url: string }> {
  const { databaseUrl } = inject('stack');
  const name = uniqueName('assetline').replace(/-/g, '_');
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(databaseUrl);
  url.pathname = `/${name}`;
  const db = createDb(url.toString(), 5);
  await migrateToLatest(db);
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
  assets: AssetRepository;
  blobs: BlobRepository;
  temporal: Client;
  taskQueue: string;
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
  maxImagePixels?: number;
  /** Set before the app listens, e.g. to point versitygw's webhook at a port chosen in advance. */
  port?: number;
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
  const { db } = await freshDatabase();
  const store = await freshStore(opts.s3Endpoint, opts.s3Bucket);
  const assets = new AssetRepository(db);
  const connection = await Connection.connect({ address: stack.temporalAddress });
  const temporal = new Client({ connection, namespace: 'default' });
  const taskQueue = uniqueName('assets');
  const logger = createLogger('test', process.env.TEST_LOG_LEVEL ?? 'silent');

  const blobs = new BlobRepository(db);
  const workers: Worker[] = [];
  let workersRun: Promise<unknown> | undefined;
  let nativeConnection: NativeConnection | undefined;
  if (opts.worker !== false) {
    nativeConnection = await NativeConnection.connect({ address: stack.temporalAddress });
    const setup = {
      connection: nativeConnection,
      namespace: 'default',
      taskQueue,
      workflowBundle: { codePath: stack.workflowBundlePath },
    };
    const scanner = opts.scanner ?? new NoScanner();
    const workspace = new LocalWorkspace(path.join(stack.tmpDir, uniqueName('work')));
    workers.push(await createIoWorker(setup, createIoActivities({ assets, blobs, store, scanner })));
    workers.push(
      await createMediaWorker(
        setup,
        createMediaActivities({
          store,
          blobs,
          workspace,
          limits: { maxImagePixels: opts.maxImagePixels ?? 100_000_000 },
        }),
        2,
      ),
    );
    workersRun = Promise.all(workers.map((w) => w.run()));
  }

  const deps: ApiDeps = {
    assets,
    blobs,
    acl: new AccessRepository(db),
    store,
    temporal,
    logger,
    settings: {
      taskQueue,
      jwtSecret: JWT_SECRET,
      uploadTtlSeconds: opts.uploadTtlSeconds ?? 900,
      maxUploadBytes: opts.maxUploadBytes ?? 100 * 1024 * 1024,
      jsonBodyLimitBytes: 64 * 1024,
      storageEventsSecret: STORAGE_EVENTS_SECRET,
    },
  };
  const server: Server = await new Promise((resolve) => {
    const s = createApp(deps).listen(opts.port ?? 0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    db,
    store,
    assets,
    blobs,
    temporal,
    taskQueue,
    token: (sub, extra) => signDevToken(JWT_SECRET, { sub, ...extra }),
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      for (const worker of workers) worker.shutdown();
      await workersRun;
      await nativeConnection?.close();
      await connection.close();
      store.destroy();
      await db.destroy();
    },
  };
}
