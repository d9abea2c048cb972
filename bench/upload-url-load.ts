import { randomBytes } from 'node:crypto';
import { cpuByPart, cpuPerUnit } from './cpu';
import { round } from './stats';
import { steadyLoad } from './steady-load';
import { createDb } from '../infra/db/database';
import type { Bench } from './types';

const RATE = 200;
const DURATION_S = 30;
/**
 * The API, Postgres and Temporal are started moments before: at full rate from the start, the first seconds
 * measure the JIT compiling and the pool opening connections (p99 of the first 5 s 240–370 ms, then 35–80 ms).
 * The warm-up's own figures are kept in the details.
 */
const WARM_UP_S = 10;
/**
 * Sockets the load generator may hold open. At the target, 200/s × 50 ms ≈ 10 are in flight; more sockets than
 * the answers need cost nothing, and too few would queue requests in the generator (which the latency counts).
 */
const SOCKETS = 64;
/** An owner of its own, far from the search corpus's 1..1000, so its quota and listings are the bench's alone. */
const OWNER = '9001';
const TYPES = [
  ['image/jpeg', 'jpg'],
  ['image/png', 'png'],
  ['video/mp4', 'mp4'],
  ['audio/mpeg', 'mp3'],
  ['application/pdf', 'pdf'],
] as const;

/** A distinct, plausible upload request: name, declared type, size and checksum differ each time. */
function uploadBody(n: number): string {
  const [contentType, ext] = TYPES[n % TYPES.length]!;
  return JSON.stringify({
    filename: `bench-${Date.now()}-${n}.${ext}`,
    contentType,
    sizeBytes: 10_000 + ((n * 7919) % 5_000_000),
    checksumSha256: randomBytes(32).toString('hex'),
    metadata: { project: `bench-${n % 13}`, camera: `cam-${n % 5}` },
  });
}

function fire(url: string, token: string, opts: { rate: number; seconds: number }) {
  return steadyLoad({
    url: `${url}/media/upload-url`,
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: uploadBody,
    rate: opts.rate,
    seconds: opts.seconds,
    timeoutMs: 10_000,
    sockets: SOCKETS,
  });
}

/**
 * Milliseconds until every upload URL was handed over: its first event published and its workflow's start deferred
 * to its time (no outbox row still waiting for that).
 */
async function handedOver(databaseUrl: string): Promise<number> {
  const db = createDb(databaseUrl, 1);
  const begun = Date.now();
  try {
    for (;;) {
      const { n } = await db
        .selectFrom('workflow_starts')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('created_published', '=', false)
        .executeTakeFirstOrThrow();
      if (Number(n) === 0 || Date.now() - begun > 60_000) return Date.now() - begun;
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    await db.destroy();
  }
}

/**
 * POST /media/upload-url at a fixed 200 requests/s for 30 s. Each answer is a real upload session: a pending row,
 * its asset workflow owed (the outbox), its first event published and the start deferred to the URL's expiry right
 * after the answer, a pre-signed PUT.
 */
export const uploadUrlLoad: Bench = async (ctx) => {
  const token = await ctx.token(OWNER);
  const apiUrl = ctx.platform.apiUrl;
  ctx.log(`upload-url: warm-up ${WARM_UP_S} s at ${RATE}/s`);
  const warmUp = await fire(apiUrl, token, { rate: RATE, seconds: WARM_UP_S });
  ctx.log(`upload-url: ${RATE} requests/s for ${DURATION_S} s`);
  const parts = { api: ctx.platform.api.pid, worker: ctx.platform.worker.pid };
  const cpuBefore = cpuByPart(parts);
  const result = await fire(apiUrl, token, { rate: RATE, seconds: DURATION_S });
  const handedOverAfterMs = await handedOver(ctx.platform.env.DATABASE_URL!);
  // Where the CPU went, per session: the rate needs rate × this of the machine's cores.
  const cpuMsPerRequest = cpuPerUnit(cpuBefore, cpuByPart(parts), result.sent);
  const failed = result.errors + result.timeouts + result.non2xx;
  // The requests go out at the rate whatever happens; the server kept up if the answers did too, the last one
  // within a second of the last send.
  const kept = result.durationSeconds <= DURATION_S + 1;
  const details = {
    rate: RATE,
    durationSeconds: DURATION_S,
    sockets: SOCKETS,
    requests: result.sent,
    answeredWithinSeconds: result.durationSeconds,
    p50Ms: result.latencyMs.p50,
    p90Ms: result.latencyMs.p90,
    p99Ms: result.latencyMs.p99,
    maxMs: result.latencyMs.max,
    maxSendLagMs: result.maxSendLagMs,
    p99By5sMs: result.p99By5sMs,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    // Each session is handed over right after the answer (the outbox row guarantees it): how long after the last
    // answer the last one was, so nothing is left waiting.
    handedOverAfterMs,
    warmUp: {
      p50Ms: warmUp.latencyMs.p50,
      p99Ms: warmUp.latencyMs.p99,
      errors: warmUp.errors + warmUp.non2xx,
    },
    cpuMsPerRequest,
    coresNeededAtRate: round((Object.values(cpuMsPerRequest).reduce((a, b) => a + b, 0) * RATE) / 1000, 2),
  };
  ctx.log(`upload-url: ${JSON.stringify(details)}`);
  const title = `POST /media/upload-url at ${RATE} requests/s for ${DURATION_S} s`;
  return [
    {
      id: 'upload-url-p99',
      title: `${title}: p99 latency`,
      value: result.latencyMs.p99,
      unit: 'ms',
      target: 'p99 < 50 ms',
      met: result.latencyMs.p99 < 50 && kept,
      details,
    },
    {
      id: 'upload-url-errors',
      title: `${title}: errors, timeouts and non-2xx answers`,
      value: failed,
      unit: 'requests',
      target: '0 errors',
      met: failed === 0,
      details: { errors: result.errors, timeouts: result.timeouts, non2xx: result.non2xx },
    },
  ];
};
