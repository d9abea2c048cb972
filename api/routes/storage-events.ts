import { timingSafeEqual } from 'node:crypto';
import { Router } from 'express';
import { z } from 'zod';
import type { ApiDeps } from '../deps';
import { HttpProblem, unauthorized } from '../problem';
import type { UploadService } from '../services/upload-service';
import { parseOr400 } from '../schemas';

// AWS (and versitygw, which copies it) send {Records: [...]}; MinIO adds a top-level EventName and Key.
const recordSchema = z.looseObject({
  eventName: z.string().optional(),
  s3: z.looseObject({
    bucket: z.looseObject({ name: z.string() }),
    object: z.looseObject({ key: z.string() }),
  }),
});
export const notificationSchema = z.looseObject({ Records: z.array(z.unknown()).optional() });

function sameSecret(given: string | undefined, expected: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** AWS URL-encodes keys with + for spaces; our own keys never contain either, so decoding is always safe. */
function decodeKey(key: string): string {
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    return key;
  }
}

export function storageEventRoutes(deps: ApiDeps, uploads: UploadService): Router {
  const router = Router();

  router.post('/storage-events', async (req, res) => {
    const expected = deps.settings.storageEventsSecret;
    if (!expected) {
      throw new HttpProblem(
        404,
        'Not Found',
        'storage events are disabled (STORAGE_EVENTS_SECRET is not set)',
      );
    }
    const given =
      req.get('x-assetline-storage-secret') ??
      (typeof req.query.token === 'string' ? req.query.token : undefined);
    if (!sameSecret(given, expected)) throw unauthorized('storage event secret missing or wrong');

    // An envelope that is not S3's is refused; records it does not act on are acknowledged below.
    const records = parseOr400(notificationSchema, req.body ?? {}).Records ?? [];
    let signalled = 0;
    let ignored = 0;
    for (const raw of records) {
      const record = recordSchema.safeParse(raw);
      if (!record.success || !record.data.eventName?.includes('ObjectCreated')) {
        ignored += 1;
        continue;
      }
      const { bucket, object } = record.data.s3;
      if (await uploads.completeFromStorage(bucket.name, decodeKey(object.key))) signalled += 1;
      else ignored += 1;
    }
    // Test events (s3:TestEvent) and foreign objects are acknowledged, or S3 would keep redelivering them.
    res.json({ signalled, ignored });
  });

  return router;
}
