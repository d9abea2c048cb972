import { Router } from 'express';
import { z } from 'zod';
import { MAX_WEBHOOK_URL_LENGTH, webhookUrlProblem } from '../../domain/webhooks/target-policy';
import { principalOf } from '../route-context';
import { parseOr400 } from '../schemas';
import type { WebhookService } from '../services/webhook-service';

export { MAX_WEBHOOKS_PER_OWNER } from '../services/webhook-service';
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
export function webhookRoutes(webhooks: WebhookService): Router {
  const router = Router();

  router.post('/webhooks', async (req, res) => {
    const principal = principalOf(req);
    const { url } = parseOr400(webhookBody, req.body);
    res.status(201).json(await webhooks.register(principal, url));
  });

  router.get('/webhooks', async (req, res) => {
    res.json(await webhooks.list(principalOf(req)));
  });

  router.delete('/webhooks/:id', async (req, res) => {
    const id = webhookId.safeParse(req.params.id);
    await webhooks.remove(principalOf(req), id.success ? id.data : undefined);
    res.status(204).end();
  });

  return router;
}
