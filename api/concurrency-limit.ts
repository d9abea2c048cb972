import type { RequestHandler } from 'express';
import { unavailable } from './problem';

/**
 * Serves at most `limit` requests at once; the others wait their turn in arrival order, and a request arriving
 * when `maxQueued` already wait gets 503 with Retry-After at once.
 *
 * Under a burst (a thousand clients asking for upload URLs in the same second) requests then wait here, where
 * waiting costs nothing, instead of inside the database pool and the Temporal client, whose 5 s limits are there
 * to notice a dependency that is down and would turn a merely busy one into 503s. The requests admitted also
 * finish in a fraction of the time, instead of every request of the burst advancing slowly at once.
 */
export function concurrencyLimit(limit: number, maxQueued: number): RequestHandler {
  let active = 0;
  const waiting: (() => void)[] = [];
  const admitWaiting = () => {
    while (active < limit && waiting.length > 0) waiting.shift()!();
  };

  return (req, res, next) => {
    const admit = () => {
      // A client that gave up while it waited needs no answer.
      if (req.socket.destroyed) return;
      active += 1;
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        active -= 1;
        admitWaiting();
      };
      res.once('finish', release);
      res.once('close', release);
      next();
    };
    if (active < limit) return admit();
    if (waiting.length >= maxQueued) {
      return next(unavailable(`the API is busy: ${limit} requests in progress, ${maxQueued} waiting`, 1));
    }
    waiting.push(admit);
  };
}
