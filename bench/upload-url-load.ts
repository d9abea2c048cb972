import { randomBytes } from 'node:crypto';
import autocannon from 'autocannon';
import { cpuByPart, cpuPerUnit } from './cpu';
import { round } from './stats';
import type { Bench } from './types';

const RATE = 200;
const DURATION_S = 30;
/**
 * autocannon waits for each socket's answer before its next request, so the sockets bound the rate: 64 keep 200/s
 * up to answers of 300 ms (at the target, 200/s × 50 ms ≈ 10 are in flight).
 */
const CONNECTIONS = 64;
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
  let n = 0;
  return autocannon({
    url: `${url}/media/upload-url`,
    method: 'POST',
    connections: CONNECTIONS,
    overallRate: opts.rate,
    duration: opts.seconds,
    timeout: 10,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    requests: [{ setupRequest: (req) => ({ ...req, body: uploadBody(n++) }) }],
  });
}

/**
 * POST /media/upload-url at a fixed 200 requests/s for 30 s. Each answer is a real upload session: a pending row,
 * its asset workflow started in Temporal, a pre-signed PUT. A short warm-up first, so the figure is the steady
 * state and not the first connections to Postgres and Temporal.
 */
export const uploadUrlLoad: Bench = async (ctx) => {
  const token = await ctx.token(OWNER);
  const apiUrl = ctx.platform.apiUrl;
  ctx.log(`upload-url: warm-up 5 s at ${RATE / 4}/s`);
  await fire(apiUrl, token, { rate: RATE / 4, seconds: 5 });
  ctx.log(`upload-url: ${RATE} requests/s for ${DURATION_S} s`);
  const parts = { api: ctx.platform.api.pid, worker: ctx.platform.worker.pid };
  const cpuBefore = cpuByPart(parts);
  const result = await fire(apiUrl, token, { rate: RATE, seconds: DURATION_S });
  // Where the CPU went, per session: the rate needs rate × this of the machine's cores.
  const cpuMsPerRequest = cpuPerUnit(cpuBefore, cpuByPart(parts), result.requests.total);
  const failed = result.errors + result.timeouts + result.non2xx;
  // A p99 is only the rate's p99 when the rate was kept: short of it, the server was saturated.
  const kept = result.requests.total >= 0.95 * RATE * DURATION_S;
  const details = {
    rate: RATE,
    durationSeconds: DURATION_S,
    connections: CONNECTIONS,
    requests: result.requests.total,
    achievedRate: round(result.requests.total / result.duration, 1),
    p50Ms: result.latency.p50,
    p90Ms: result.latency.p90,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    cpuMsPerRequest,
    coresNeededAtRate: round((Object.values(cpuMsPerRequest).reduce((a, b) => a + b, 0) * RATE) / 1000, 2),
  };
  ctx.log(`upload-url: ${JSON.stringify(details)}`);
  const title = `POST /media/upload-url at ${RATE} requests/s for ${DURATION_S} s`;
  return [
    {
      id: 'upload-url-p99',
      title: `${title}: p99 latency`,
      value: result.latency.p99,
      unit: 'ms',
      target: 'p99 < 50 ms',
      met: result.latency.p99 < 50 && kept,
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
