/**
 * `npm start`: the whole platform on this machine. Postgres, versitygw, the Temporal dev server (with its Web UI),
 * clamd (with a test signature database), Redis and the nginx edge, then the worker and the API. Each server whose
 * address the environment gives (DATABASE_URL, S3_ENDPOINT, ...) is used instead of started; every other variable
 * of the README's configuration table is passed on over the embedded defaults (scripts/start-plan.ts). Data stays
 * under ASSETLINE_DATA_DIR (.data/), so a restart finds the assets it left.
 */
import path from 'node:path';
import {
  ASSETLINE_SEARCH_ATTRIBUTES,
  freePort,
  repoRoot,
  startAssetline,
  startClamd,
  startNginx,
  startPostgres,
  startTemporalDevServer,
  startVersitygw,
  type AssetlineProcess,
} from '../devstack';
import { startRedis } from '../devstack/redis';
import { ConfigError } from '../infra/config';
import { signDevToken } from '../devstack/dev-token';
import { bundleWorkflows } from '../worker/bundle-workflows';
import { planStart, type StartPlan } from './start-plan';
import { instructions } from './start-instructions';
import { buildConsole } from './build-console';

let plan: StartPlan;
try {
  plan = planStart(process.env, repoRoot);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(`npm start: ${err.message}`);
  process.exit(78); // EX_CONFIG, as the API and the worker
}
const { local, dataDir, embedded, env, config } = plan;
const dir = (name: string) => path.join(dataDir, name);

let stopping = false;
const stoppers: (() => Promise<void>)[] = [];
async function stopAll(code: number): Promise<never> {
  stopping = true;
  for (const stop of stoppers.reverse()) await stop().catch(() => undefined);
  process.exit(code);
}
// `on`, not `once`: devstack's own handlers stand aside only while another listener is registered. A second Ctrl-C
// does not wait: exiting SIGKILLs every server's process group (devstack/process.ts).
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => (stopping ? process.exit(130) : void stopAll(0)));
}

/** A server or process that goes away on its own takes the rest down with it, and says where to look. */
function supervise(proc: AssetlineProcess): AssetlineProcess {
  void proc.exited.then((info) => {
    if (stopping) return;
    console.error(`${proc.name} exited (${info.signal ?? info.code}); see ${proc.logFile}`);
    void stopAll(1);
  });
  stoppers.push(() => proc.stop());
  return proc;
}

try {
  console.log('Starting Postgres, the Temporal dev server, clamd and Redis…');
  const [, postgres, temporal, clamd, redis, bundle] = await Promise.all([
    // The web console's static files, served by the API at /console (built from console/src every start).
    buildConsole().then(() => undefined),
    embedded.postgres
      ? startPostgres({ dataDir: dir('postgres'), port: local.ASSETLINE_POSTGRES_PORT, durable: true })
      : undefined,
    embedded.temporal
      ? startTemporalDevServer({
          dbFile: dir('temporal.db'),
          port: local.ASSETLINE_TEMPORAL_PORT,
          uiPort: local.ASSETLINE_TEMPORAL_UI_PORT,
          namespace: config.TEMPORAL_NAMESPACE,
          searchAttributes: ASSETLINE_SEARCH_ATTRIBUTES,
          logFile: dir('logs/temporal.log'),
        })
      : undefined,
    embedded.clamd
      ? startClamd({
          dataDir: dir('clamd'),
          // CLAMD_PORT when given, so the worker finds it there; ASSETLINE_CLAMD_PORT otherwise.
          port: config.CLAMD_PORT,
          streamMaxLength: String(config.CLAMD_MAX_STREAM_BYTES),
          // The real signatures, once freshclam has put them there (README), take a minute or more to load.
          startTimeoutMs: 300_000,
        })
      : undefined,
    embedded.redis ? startRedis({ dataDir: dir('redis'), port: local.ASSETLINE_REDIS_PORT }) : undefined,
    // Bundled ahead, as the Docker image does: webpack never runs inside (and never bloats) the worker.
    env.WORKFLOW_BUNDLE_PATH ? undefined : bundleWorkflows(dir('workflow-bundle.js')),
  ]);
  for (const server of [postgres, temporal, clamd, redis]) if (server) stoppers.push(server.stop);
  if (postgres) env.DATABASE_URL = postgres.url;
  if (bundle) env.WORKFLOW_BUNDLE_PATH = bundle;
  env.WORKER_HEALTH_ADDRESS ??= `127.0.0.1:${await freePort()}`;

  // The worker first: it runs the migrations and registers the schedules the API relies on.
  supervise(await startAssetline('worker', { env, logFile: dir('logs/worker.log') }));
  const api = supervise(await startAssetline('api', { env, logFile: dir('logs/api.log') }));
  const apiUrl = api.url!;

  // versitygw announces itself to its webhook at start, so it comes up after the API that receives its events.
  const s3 = embedded.s3
    ? await startVersitygw({
        dataDir: dir('s3'),
        port: local.ASSETLINE_S3_PORT,
        accessKey: config.S3_ACCESS_KEY_ID,
        secretKey: config.S3_SECRET_ACCESS_KEY,
        region: config.S3_REGION,
        buckets: plan.buckets,
        eventWebhookUrl: config.STORAGE_EVENTS_SECRET
          ? `${apiUrl}/storage-events?token=${config.STORAGE_EVENTS_SECRET}`
          : undefined,
      })
    : undefined;
  if (s3) stoppers.splice(stoppers.length - 2, 0, s3.stop);
  const edge = embedded.edge
    ? await startNginx({
        dataDir: dir('nginx'),
        port: local.ASSETLINE_DELIVERY_PORT,
        originUrl: apiUrl,
        signingSecret: config.DELIVERY_SIGNING_SECRET,
        // The edge locates viewers as the API does (regional rights).
        geo: {
          databasePath: config.GEOIP_DATABASE,
          trustedProxies: config.GEO_TRUSTED_PROXIES.map((c) => `${c.address}/${c.prefix}`),
          countryHeader: config.GEO_COUNTRY_HEADER,
        },
      })
    : undefined;
  if (edge) stoppers.splice(stoppers.length - 2, 0, edge.stop);
  await waitForReady(`${apiUrl}/readyz`, 60_000);

  const token = await signDevToken(config.AUTH_JWT_SECRET, { sub: '1' }, '30d');
  console.log(
    instructions({
      apiUrl,
      token,
      temporalUi: temporal?.uiUrl,
      s3: s3
        ? `${s3.endpoint}     (bucket ${config.S3_BUCKET}, access key ${config.S3_ACCESS_KEY_ID})`
        : undefined,
      delivery: config.DELIVERY_BASE_URL,
      postgres: postgres?.url,
      clamd: clamd ? `${clamd.host}:${clamd.port} (test signatures only: see the README)` : undefined,
      redis: redis?.url,
      workerHealth: `http://${env.WORKER_HEALTH_ADDRESS}/readyz`,
      repoRoot,
      dataDir: dataDir.startsWith(repoRoot + path.sep) ? path.relative(repoRoot, dataDir) : dataDir,
    }),
  );
} catch (err) {
  console.error(`npm start failed: ${(err as Error).message}`);
  await stopAll(1);
}

async function waitForReady(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 300));
  }
}
