import type { RequestHandler } from 'express';
import { Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Prometheus metrics for the API: the process' own (event loop lag, heap, GC) and a latency histogram per route
 * pattern and status. The route label is the pattern (`/media/:id`), never the URL, so ids cannot explode it.
 */
export function createMetrics(owed?: { count(): Promise<number> }) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  if (owed) {
    new Gauge({
      name: 'assetline_workflow_starts_owed',
      help: 'Asset workflow starts due or failed and not made yet (Temporal away, or the sweep behind); starts deferred to their time are not counted',
      registers: [registry],
      async collect() {
        // Without the database the figure is unknown: the scrape goes on without it rather than fail.
        const n = await owed.count().catch(() => undefined);
        if (n === undefined) this.reset();
        else this.set(n);
      },
    });
  }
  const latency = new Histogram({
    name: 'assetline_http_request_duration_seconds',
    help: 'API request latency by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });

  const measure: RequestHandler = (req, res, next) => {
    const stop = latency.startTimer();
    res.on('finish', () => {
      const pattern = req.route?.path as string | undefined;
      const route = pattern ? `${req.baseUrl}${pattern}` : 'unmatched';
      stop({ method: req.method, route, status: String(res.statusCode) });
    });
    next();
  };

  const expose: RequestHandler = async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  };

  return { measure, expose };
}
