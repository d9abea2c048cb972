import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { API_SECTIONS, WORKER_SECTIONS, configVariables, loadConfig, type ConfigOf } from '../infra/config';

/** What `npm start` runs itself: each server whose address the environment does not already give. */
export interface Embedded {
  postgres: boolean;
  s3: boolean;
  temporal: boolean;
  clamd: boolean;
  redis: boolean;
  /** The nginx edge, unless DELIVERY_BASE_URL names another. */
  edge: boolean;
}

export interface StartPlan {
  local: ConfigOf<'local'>;
  dataDir: string;
  embedded: Embedded;
  /** The API's and the worker's environment: the embedded defaults under every variable the user set. */
  env: Record<string, string>;
  config: ConfigOf<(typeof API_SECTIONS)[number] | (typeof WORKER_SECTIONS)[number]>;
  /** Buckets an embedded versitygw creates. */
  buckets: string[];
}

/**
 * Secrets are made once and kept under the data directory, so tokens printed yesterday still work today; one added
 * since the file was written is made and kept too.
 */
function keptSecrets(dataDir: string): Record<'jwt' | 's3Secret' | 'storageEvents' | 'delivery', string> {
  const file = path.join(dataDir, 'secrets.json');
  const kept: Record<string, string> = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {};
  const made = {
    jwt: randomBytes(32).toString('hex'),
    s3Secret: randomBytes(20).toString('hex'),
    storageEvents: randomBytes(16).toString('hex'),
    delivery: randomBytes(24).toString('hex'),
    ...kept,
  };
  if (Object.keys(made).length > Object.keys(kept).length) {
    fs.writeFileSync(file, JSON.stringify(made, null, 2), { mode: 0o600 });
  }
  return made;
}

/**
 * The environment `npm start` gives the API and the worker. Every variable of the README's configuration table that
 * is set (and not empty) wins over the embedded default, and both processes' sections are validated before any
 * server starts, so a wrong value stops `npm start` with the config module's message. DATABASE_URL of an embedded
 * Postgres is only known once it runs: `withDatabase` fills it in.
 */
export function planStart(source: NodeJS.ProcessEnv, repoRoot: string): StartPlan {
  const local = loadConfig(['local'], source);
  const dataDir = path.resolve(repoRoot, local.ASSETLINE_DATA_DIR);
  fs.mkdirSync(path.join(dataDir, 'logs'), { recursive: true });

  const given: Record<string, string> = {};
  for (const { name } of configVariables()) {
    const value = source[name];
    if (value !== undefined && value !== '') given[name] = value;
  }
  const embedded: Embedded = {
    postgres: !given.DATABASE_URL,
    s3: !given.S3_ENDPOINT,
    temporal: !given.TEMPORAL_ADDRESS,
    clamd: !given.CLAMD_HOST,
    redis: !given.REDIS_URL,
    edge: !given.DELIVERY_BASE_URL,
  };
  const secret = keptSecrets(dataDir);
  const defaults: Record<string, string> = {
    PORT: '3000',
    S3_ENDPOINT: `http://127.0.0.1:${local.ASSETLINE_S3_PORT}`,
    S3_BUCKET: 'assetline',
    S3_ACCESS_KEY_ID: 'assetline',
    S3_SECRET_ACCESS_KEY: secret.s3Secret,
    TEMPORAL_ADDRESS: `127.0.0.1:${local.ASSETLINE_TEMPORAL_PORT}`,
    AUTH_JWT_SECRET: secret.jwt,
    STORAGE_EVENTS_SECRET: secret.storageEvents,
    // Clients fetch bytes through the nginx edge (devstack/nginx.ts).
    DELIVERY_BASE_URL: `http://127.0.0.1:${local.ASSETLINE_DELIVERY_PORT}`,
    DELIVERY_SIGNING_SECRET: secret.delivery,
    CLAMD_HOST: '127.0.0.1',
    CLAMD_PORT: String(local.ASSETLINE_CLAMD_PORT),
    REDIS_URL: `redis://127.0.0.1:${local.ASSETLINE_REDIS_PORT}`,
    // Local receivers (a webhook on localhost) are the point of a development stack.
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    WORK_DIR: path.join(dataDir, 'work'),
    LOG_LEVEL: 'info',
  };
  // An external clamd keeps the port it was given (or the config's default), not the embedded one's.
  if (!embedded.clamd) delete defaults.CLAMD_PORT;
  const env = { ...defaults, ...given };
  // The web console is served by the API at /console: its uploads PUT to the bucket from the API's own origin, and
  // its asset pages link runs to the embedded Temporal UI.
  if (!given.CORS_ALLOWED_ORIGINS) {
    env.CORS_ALLOWED_ORIGINS = [`http://127.0.0.1:${env.PORT}`, `http://localhost:${env.PORT}`].join(',');
  }
  if (embedded.temporal && !given.CONSOLE_TEMPORAL_UI_URL) {
    env.CONSOLE_TEMPORAL_UI_URL = `http://127.0.0.1:${local.ASSETLINE_TEMPORAL_UI_PORT}`;
  }
  const placeholderDb = `postgres://127.0.0.1:${local.ASSETLINE_POSTGRES_PORT}/assetline`;
  const check = { DATABASE_URL: placeholderDb, ...env };
  const config = {
    ...loadConfig(WORKER_SECTIONS, check),
    ...loadConfig(API_SECTIONS, check),
  };
  const buckets = [
    config.S3_BUCKET,
    config.WARM_S3_BUCKET ?? `${config.S3_BUCKET}-warm`,
    config.COLD_S3_BUCKET ?? `${config.S3_BUCKET}-cold`,
    // A replica on the same embedded server, unless it lives elsewhere.
    ...(config.REPLICA_S3_BUCKET && !config.REPLICA_S3_ENDPOINT ? [config.REPLICA_S3_BUCKET] : []),
  ];
  return { local, dataDir, embedded, env, config, buckets };
}
