import { randomBytes, randomUUID } from 'node:crypto';
import type { WebhookClient } from '../../infra/adapters/webhook-client';
import type { WebhookRepository } from '../../infra/adapters/webhook-repository';
import { TargetRefused } from '../../domain/webhooks/target-policy';
import type { Principal } from '../auth';
import { conflict, invalid, ServiceError } from './errors';

export const MAX_WEBHOOKS_PER_OWNER = 20;

/** An owner's webhook registrations. Every transition of the owner's assets is delivered to each of them. */
export class WebhookService {
  constructor(private readonly deps: { webhooks: WebhookRepository; webhookClient: WebhookClient }) {}

  /** The target must pass the SSRF rule when registered; the answer carries the signing secret, this once. */
  async register(owner: Principal, url: string) {
    try {
      await this.deps.webhookClient.checkTarget(url);
    } catch (err) {
      if (!(err instanceof TargetRefused)) throw err;
      throw invalid(`invalid request body: url ${err.message}`, {
        errors: [{ field: 'url', message: err.message }],
      });
    }
    // Kept as is, not hashed: the platform needs the secret itself to sign every delivery.
    const secret = randomBytes(32).toString('hex');
    const created = await this.deps.webhooks.createWithin(
      { webhookId: randomUUID(), ownerId: owner.userId, url, secret },
      MAX_WEBHOOKS_PER_OWNER,
    );
    if (!created) {
      throw conflict(`an owner may register at most ${MAX_WEBHOOKS_PER_OWNER} webhooks; delete one first`);
    }
    return { ...created, secret };
  }

  async list(owner: Principal) {
    return { webhooks: await this.deps.webhooks.listByOwner(owner.userId) };
  }

  /** `webhookId` undefined (not a UUID) is refused like one the owner does not have. */
  async remove(owner: Principal, webhookId: string | undefined): Promise<void> {
    const deleted =
      webhookId !== undefined && (await this.deps.webhooks.deleteOwned(owner.userId, webhookId));
    if (!deleted) throw new ServiceError('not-found', 'no such webhook');
  }
}
