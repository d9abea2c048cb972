import { Router } from 'express';
import type { ApiDeps } from '../deps';

const CHECK_TIMEOUT_MS = 3_000;

async function check(fn: () => Promise<void>): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      fn(),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)),
          CHECK_TIMEOUT_MS,
        );
      }),
    ]);
    return 'ok';
  } catch (err) {
    return `error: ${(err as Error).message || (err as Error).name}`;
  } finally {
    clearTimeout(timer);
  }
}

export function healthRoutes(deps: ApiDeps): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const [database, objectStore, temporal] = await Promise.all([
      check(() => deps.assets.ping()),
      check(() => deps.store.ping()),
      check(() => deps.workflows.ping()),
    ]);
    const checks = { database, objectStore, temporal };
    const ready = Object.values(checks).every((c) => c === 'ok');
    if (!ready) res.set('Retry-After', '5');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'unavailable', checks });
  });
  return router;
}
