import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { startAssetline, killHard, type AssetlineProcess } from './assetline';
import { startClamd, type ClamdHandle } from './clamd';
import { startPostgres, type PostgresHandle } from './postgres';
import { startVersitygw, type VersitygwHandle } from './object-store';
import { startTemporalDevServer, type TemporalDevServerHandle } from './temporal';
import { freePort } from './ports';
import { ASSETLINE_SEARCH_ATTRIBUTES } from './search-attributes';
import { bundleWorkflows } from '../worker/bundle-workflows';

export type ServiceName = 'postgres' | 's3' | 'temporal' | 'clamd' | 'api' | 'worker';

export interface LocalPlatformOptions {
  /** Every server's data and every log live below this directory. */
  dataDir: string;
  /** Persist Temporal to a SQLite file under dataDir, so a restart of the dev server keeps the runs. */
  persistTemporal?: boolean;
  /** Start clamd (our own signature database) and point the worker at it. */
  clamd?: boolean;
  /** Extra environment for both processes (HOT_DAYS, MEDIA_CONCURRENCY, ...). */
  env?: NodeJS.ProcessEnv;
  workerEnv?: NodeJS.ProcessEnv;
  apiEnv?: NodeJS.ProcessEnv;
}

export interface LocalPlatform {
  apiUrl: string;
  /** The environment the processes were given (DATABASE_URL, S3_*, TEMPORAL_ADDRESS, secrets). */
  env: Record<string, string>;
  jwtSecret: string;
  postgres: PostgresHandle;
  s3: VersitygwHandle;
  temporal: TemporalDevServerHandle;
  clamd?: ClamdHandle;
  api: AssetlineProcess;
  worker: AssetlineProcess;
  /** Stops a service gracefully (SIGTERM; for the worker, in-flight activities finish first). */
  stop(name: ServiceName): Promise<void>;
  /** The API or worker: SIGKILL of its process group, nothing gets to clean up. A server: stop(), as above. */
  kill(name: ServiceName): Promise<void>;
  /** Starts a stopped service again on the same port with the same data (the API or worker with extra env). */
  start(name: ServiceName, extraEnv?: NodeJS.ProcessEnv): Promise<void>;
  stopAll(): Promise<void>;
}

const BUCKETS = ['assetline', 'assetline-warm', 'assetline-cold'];

/**
 * Postgres, versitygw, the Temporal dev server, optionally clamd, and the API and a worker as separate OS
 * processes configured through the environment, as in production. Each service keeps its port, so any of them
 * can be stopped and started again under the others: what the chaos suite and the benchmark need.
 */
export async function startLocalPlatform(opts: LocalPlatformOptions): Promise<LocalPlatform> {
  const dir = (name: string) => path.join(opts.dataDir, name);
  const ports = {
    postgres: await freePort(),
    s3: await freePort(),
    temporal: await freePort(),
    clamd: await freePort(),
    api: await freePort(),
  };
  const s3Secret = randomBytes(16).toString('hex');
  const jwtSecret = randomBytes(32).toString('hex');

  const starters = {
    postgres: () => startPostgres({ dataDir: dir('postgres'), port: ports.postgres }),
    s3: () =>
      startVersitygw({
        dataDir: dir('s3'),
        port: ports.s3,
        accessKey: 'assetline',
        secretKey: s3Secret,
        buckets: BUCKETS,
      }),
    temporal: () =>
      startTemporalDevServer({
        port: ports.temporal,
        dbFile: opts.persistTemporal ? dir('temporal/temporal.db') : undefined,
        searchAttributes: ASSETLINE_SEARCH_ATTRIBUTES,
        logFile: dir('logs/temporal.log'),
      }),
    clamd: () => startClamd({ dataDir: dir('clamd'), port: ports.clamd }),
  };

  const [postgres, s3, temporal, clamd, workflowBundle] = await Promise.all([
    starters.postgres(),
    starters.s3(),
    starters.temporal(),
    opts.clamd ? starters.clamd() : undefined,
    // As in production: bundled ahead, so webpack never runs in (and never bloats) the worker.
    bundleWorkflows(dir('workflow-bundle.js')),
  ]);
  const env: Record<string, string> = {
    DATABASE_URL: postgres.url,
    S3_ENDPOINT: s3.endpoint,
    S3_BUCKET: BUCKETS[0]!,
    WARM_S3_BUCKET: BUCKETS[1]!,
    COLD_S3_BUCKET: BUCKETS[2]!,
    S3_ACCESS_KEY_ID: 'assetline',
    S3_SECRET_ACCESS_KEY: s3Secret,
    TEMPORAL_ADDRESS: temporal.address,
    AUTH_JWT_SECRET: jwtSecret,
    DELIVERY_SIGNING_SECRET: randomBytes(24).toString('hex'),
    DELIVERY_BASE_URL: `http://127.0.0.1:${ports.api}/origin`,
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    WORK_DIR: dir('work'),
    WORKFLOW_BUNDLE_PATH: workflowBundle,
    LOG_LEVEL: 'info',
    ...(clamd ? { CLAMD_HOST: clamd.host, CLAMD_PORT: String(clamd.port) } : {}),
    ...(opts.env as Record<string, string>),
  };
  const processStarters = {
    api: (extra?: NodeJS.ProcessEnv) =>
      startAssetline('api', {
        env: { ...env, PORT: String(ports.api), ...opts.apiEnv, ...extra },
        logFile: dir('logs/api.log'),
      }),
    worker: (extra?: NodeJS.ProcessEnv) =>
      startAssetline('worker', {
        env: { ...env, ...opts.workerEnv, ...extra },
        logFile: dir('logs/worker.log'),
      }),
  };
  // The worker first: it runs the migrations and registers the schedules the API relies on.
  const worker = await processStarters.worker();
  const api = await processStarters.api();

  const platform: LocalPlatform = {
    apiUrl: api.url!,
    env,
    jwtSecret,
    postgres,
    s3,
    temporal,
    clamd,
    api,
    worker,
    async stop(name) {
      await platform[name]?.stop();
    },
    async kill(name) {
      if (name === 'api' || name === 'worker') await killHard(platform[name]);
      else await platform[name]?.stop();
    },
    async start(name, extraEnv) {
      switch (name) {
        case 'api':
        case 'worker':
          platform[name] = await processStarters[name](extraEnv);
          return;
        case 'clamd':
          platform.clamd = await starters.clamd();
          return;
        case 'postgres':
          platform.postgres = await starters.postgres();
          return;
        case 's3':
          platform.s3 = await starters.s3();
          return;
        case 'temporal':
          platform.temporal = await starters.temporal();
          return;
      }
    },
    async stopAll() {
      await Promise.allSettled([platform.api.stop(), platform.worker.stop()]);
      await Promise.allSettled([
        platform.temporal.stop(),
        platform.s3.stop(),
        platform.postgres.stop(),
        platform.clamd?.stop(),
      ]);
    },
  };
  return platform;
}
