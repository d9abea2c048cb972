import http from 'node:http';
import { performance } from 'node:perf_hooks';

export interface SteadyLoadOptions {
  url: string;
  method: string;
  headers: Record<string, string>;
  /** The n-th request's body. */
  body: (n: number) => string;
  /** Requests per second, sent evenly spaced. */
  rate: number;
  seconds: number;
  timeoutMs: number;
  /** Sockets kept open; a request finding all busy waits for one, and that wait counts in its latency. */
  sockets: number;
}

export interface SteadyLoadResult {
  sent: number;
  ok: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  /** Wall time from the first scheduled send to the last answer. */
  durationSeconds: number;
  /** Latency of the 2xx answers, measured from each request's scheduled send time. */
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  /** How late the generator itself sent, at worst: above a few ms the load generator was starved of CPU. */
  maxSendLagMs: number;
  /** The p99 of each 5 s of the run, by send time: a tail spread evenly, or one bad stretch. */
  p99By5sMs: number[];
}

/**
 * An open-model load: request n is due at start + n/rate whatever happened to the others, as clients arriving
 * independently would send it, and its latency runs from that due time (so a late send, or a wait for a socket,
 * is not hidden: no coordinated omission). autocannon's rate limit is not that: each connection sends its share
 * of the second back to back when the second begins, so every second starts with a burst of the whole rate.
 */
export async function steadyLoad(opts: SteadyLoadOptions): Promise<SteadyLoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.sockets });
  const total = Math.round(opts.rate * opts.seconds);
  const intervalMs = 1000 / opts.rate;
  const latencies: number[] = [];
  const byWindow: number[][] = [];
  const counts = { errors: 0, timeouts: 0, non2xx: 0 };
  let maxSendLagMs = 0;
  let lastAnswer = 0;
  const answers: Promise<void>[] = [];
  let start = 0;

  const record = (latency: number, due: number) => {
    latencies.push(latency);
    (byWindow[Math.floor((due - start) / 5000)] ??= []).push(latency);
  };
  const send = (n: number, due: number) =>
    new Promise<void>((resolve) => {
      let settled = false;
      const settle = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        lastAnswer = performance.now();
        outcome();
        resolve();
      };
      const body = opts.body(n);
      const req = http.request(
        opts.url,
        {
          method: opts.method,
          agent,
          headers: { ...opts.headers, 'content-length': Buffer.byteLength(body) },
          timeout: opts.timeoutMs,
        },
        (res) => {
          res.resume();
          res.on('end', () =>
            settle(() => {
              if (res.statusCode! >= 200 && res.statusCode! < 300) record(lastAnswer - due, due);
              else counts.non2xx += 1;
            }),
          );
        },
      );
      req.on('timeout', () => {
        settle(() => (counts.timeouts += 1));
        req.destroy();
      });
      req.on('error', () => settle(() => (counts.errors += 1)));
      req.end(body);
    });

  start = performance.now();
  let next = 0;
  await new Promise<void>((done) => {
    const tick = () => {
      const now = performance.now();
      // Everything that fell due while the timer slept goes now; its lateness is part of its latency.
      while (next < total && start + next * intervalMs <= now) {
        const due = start + next * intervalMs;
        maxSendLagMs = Math.max(maxSendLagMs, now - due);
        answers.push(send(next, due));
        next += 1;
      }
      if (next >= total) return done();
      setTimeout(tick, Math.max(0, start + next * intervalMs - performance.now()));
    };
    tick();
  });
  await Promise.all(answers);
  agent.destroy();

  const at = (p: number, values = latencies) => {
    values.sort((a, b) => a - b);
    return values.length
      ? round1(values[Math.min(values.length - 1, Math.ceil(p * values.length) - 1)]!)
      : NaN;
  };
  return {
    sent: total,
    ok: latencies.length,
    ...counts,
    durationSeconds: round1((lastAnswer - start) / 1000),
    latencyMs: { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: at(1) },
    maxSendLagMs: round1(maxSendLagMs),
    p99By5sMs: Array.from(byWindow, (w) => at(0.99, w ?? [])),
  };
}

const round1 = (x: number) => Math.round(x * 10) / 10;
