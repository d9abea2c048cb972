/**
 * `npm start`: the whole platform on this machine with embedded defaults. Postgres, versitygw and the Temporal dev
 * server (with its Web UI) keep their data under .data/, so a restart finds the assets it left.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  ASSETLINE_SEARCH_ATTRIBUTES,
  startNginx,
  startPostgres,
  startTemporalDevServer,
  startVersitygw,
  repoRoot,
} from '../devstack';
import { signDevToken } from '../shared/dev-token';

const dataDir = path.join(repoRoot, '.data');
const logDir = path.join(dataDir, 'logs');
fs.mkdirSync(logDir, { recursive: true });

const port = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const ports = {
  api: port('PORT', 3000),
  temporal: port('ASSETLINE_TEMPORAL_PORT', 7233),
  temporalUi: port('ASSETLINE_TEMPORAL_UI_PORT', 8233),
  s3: port('ASSETLINE_S3_PORT', 9000),
  postgres: port('ASSETLINE_POSTGRES_PORT', 55432),
  delivery: port('ASSETLINE_DELIVERY_PORT', 8080),
};

/**
 * Secrets are made once and kept, so tokens printed yesterday still work today; one added since the file was
 * written is made and kept too.
 */
function secrets(): { jwt: string; s3Secret: string; storageEvents: string; delivery: string } {
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

function runService(name: string, script: string, env: NodeJS.ProcessEnv): ChildProcess {
  const log = fs.openSync(path.join(logDir, `${name}.log`), 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', log, log],
  });
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`${name} exited (${signal ?? code}); see .data/logs/${name}.log`);
      void stopAll(1);
    }
  });
  return child;
}

async function waitForHttp(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

let stopping = false;
const stoppers: (() => Promise<void>)[] = [];
async function stopAll(code: number): Promise<never> {
  stopping = true;
  for (const stop of stoppers.reverse()) await stop().catch(() => undefined);
  process.exit(code);
}
process.once('SIGINT', () => void stopAll(0));
process.once('SIGTERM', () => void stopAll(0));

try {
  const secret = secrets();
  console.log('Starting Postgres, the Temporal dev server and versitygw…');
  const [postgres, temporal] = await Promise.all([
    startPostgres({ dataDir: path.join(dataDir, 'postgres'), port: ports.postgres, durable: true }),
    startTemporalDevServer({
      dbFile: path.join(dataDir, 'temporal.db'),
      port: ports.temporal,
      uiPort: ports.temporalUi,
      searchAttributes: ASSETLINE_SEARCH_ATTRIBUTES,
      logFile: path.join(logDir, 'temporal.log'),
    }),
  ]);
  stoppers.push(postgres.stop, temporal.stop);

  const env: NodeJS.ProcessEnv = {
    PORT: String(ports.api),
    DATABASE_URL: postgres.url,
    S3_ENDPOINT: `http://127.0.0.1:${ports.s3}`,
    S3_BUCKET: 'assetline',
    S3_ACCESS_KEY_ID: 'assetline',
    S3_SECRET_ACCESS_KEY: secret.s3Secret,
    TEMPORAL_ADDRESS: temporal.address,
    AUTH_JWT_SECRET: secret.jwt,
    STORAGE_EVENTS_SECRET: secret.storageEvents,
    // Clients fetch bytes through the nginx edge started below (devstack/nginx.ts).
    DELIVERY_BASE_URL: `http://127.0.0.1:${ports.delivery}`,
    DELIVERY_SIGNING_SECRET: secret.delivery,
    // Local receivers (a webhook on localhost) are the point of a development stack.
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
  };
  const worker = runService('worker', 'worker/main.ts', env);
  const api = runService('api', 'api/main.ts', env);
  stoppers.push(
    async () => void worker.kill('SIGTERM'),
    async () => void api.kill('SIGTERM'),
  );
  const apiUrl = `http://127.0.0.1:${ports.api}`;
  await waitForHttp(`${apiUrl}/healthz`, 60_000);

  // versitygw announces itself to its webhook at start, so it comes up after the API that receives its events.
  const s3 = await startVersitygw({
    dataDir: path.join(dataDir, 's3'),
    port: ports.s3,
    accessKey: 'assetline',
    secretKey: secret.s3Secret,
    buckets: ['assetline', 'assetline-warm', 'assetline-cold'],
    eventWebhookUrl: `${apiUrl}/storage-events?token=${secret.storageEvents}`,
  });
  stoppers.splice(2, 0, s3.stop);
  const edge = await startNginx({
    dataDir: path.join(dataDir, 'nginx'),
    port: ports.delivery,
    originUrl: apiUrl,
    signingSecret: secret.delivery,
  });
  stoppers.push(edge.stop);
  await waitForHttp(`${apiUrl}/readyz`, 60_000);

  const token = await signDevToken(secret.jwt, { sub: '1' }, '30d');
  console.log(`
Assetline is running.

  API          ${apiUrl}          (readiness: ${apiUrl}/readyz)
  Temporal UI  ${temporal.uiUrl}  (each asset is the workflow asset-<assetId>)
  S3           ${s3.endpoint}     (bucket assetline, access key assetline)
  Delivery     ${edge.url}     (nginx secure_link edge; /media/<id>/content redirects here)
  Postgres     ${postgres.url}
  Logs         .data/logs/

A token for owner 1, valid 30 days:
  export TOKEN=${token}

Upload a file:
  FILE=some.jpg
  curl -s -X POST ${apiUrl}/media/upload-url -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\
    -d "{\\"filename\\":\\"$FILE\\",\\"contentType\\":\\"image/jpeg\\",\\"sizeBytes\\":$(stat -c %s $FILE)}"
  # PUT the bytes to upload.url with upload.headers, then:
  curl -s -X POST ${apiUrl}/media/<assetId>/complete -H "Authorization: Bearer $TOKEN"
  curl -s ${apiUrl}/media/<assetId> -H "Authorization: Bearer $TOKEN"
  curl -sL ${apiUrl}/media/<assetId>/content?rendition=thumb-256 -H "Authorization: Bearer $TOKEN" -o thumb.webp

Ctrl-C stops everything; data stays in .data/ (delete it to start afresh).
`);
} catch (err) {
  console.error(`npm start failed: ${(err as Error).message}`);
  await stopAll(1);
}
