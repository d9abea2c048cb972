import { randomBytes, randomUUID } from 'node:crypto';
import { Router } from 'express';
import { z } from 'zod';
import {
  MAX_WEBHOOK_URL_LENGTH,
  TargetRefused,
  webhookUrlProblem,
} from '../../shared/webhooks/target-policy';
import type { ApiDeps } from '../deps';
import { badRequest, HttpProblem, notFound } from '../problem';
import { principalOf } from '../route-context';
import { parseOr400 } from '../schemas';

export const MAX_WEBHOOKS_PER_OWNER = 20;
/** An absolute http(s) URL without credentials or whitespace: the document's pattern, checked here too. */
export const WEBHOOK_URL = /^[Hh][Tt][Tt][Pp][Ss]?:\/\/[^\s/?#@\\]+(?:[/?#][^\s]*)?$/;

export const webhookBody = z
  .object({
    url: z
      .string()
      .max(MAX_WEBHOOK_URL_LENGTH, `must be at most ${MAX_WEBHOOK_URL_LENGTH} characters`)
      .regex(WEBHOOK_URL, 'must be an absolute http or https URL without credentials')
      .superRefine((value, ctx) => {
        const problem = webhookUrlProblem(value);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      // Stored as the URL parser normalises it (http://2130706433/ is http://127.0.0.1/): what is shown is what is called.
      .transform((value) => new URL(value).href),
  })
  .strict();

const webhookId = z.uuid();

/** An owner's webhook registrations. Every transition of the owner's assets is delivered to each of them. */
export function webhookRoutes(deps: ApiDeps): Router {
  const router = Router();

  router.post('/webhooks', async (req, res) => {
    const principal = principalOf(req);
    const { url } = parseOr400(webhookBody, req.body);
    try {
      await deps.webhookClient.checkTarget(url);
    } catch (err) {
      if (!(err instanceof TargetRefused)) throw err;
      throw badRequest(`invalid request body: url ${err.message}`, {
        errors: [{ field: 'url', message: err.message }],
      });
    }
    // Kept as is, not hashed: the platform needs the secret itself to sign every delivery.
    const secret = randomBytes(32).toString('hex');
    const created = await deps.webhooks.createWithin(
      { webhookId: randomUUID(), ownerId: principal.userId, url, secret },
      MAX_WEBHOOKS_PER_OWNER,
    );
    if (!created) {
      throw new HttpProblem(
        409,
        'Conflict',
        `an owner may register at most ${MAX_WEBHOOKS_PER_OWNER} webhooks; delete one first`,
      );
    }
    res.status(201).json({ ...created, secret });
  });

  router.get('/webhooks', async (req, res) => {
    res.json({ webhooks: await deps.webhooks.listByOwner(principalOf(req).userId) });
  });

  router.delete('/webhooks/:id', async (req, res) => {
    const id = webhookId.safeParse(req.params.id);
    const deleted = id.success && (await deps.webhooks.deleteOwned(principalOf(req).userId, id.data));
    if (!deleted) throw notFound('no such webhook');
    res.status(204).end();
  });

  return router;
}
