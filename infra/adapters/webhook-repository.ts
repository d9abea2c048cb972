import { sql } from 'kysely';
import type { Db } from '../db/database';
import type { AssetEventRow } from '../db/schema';

export interface WebhookView {
  webhookId: string;
  url: string;
  createdAt: Date;
}

export interface NewWebhook {
  webhookId: string;
  ownerId: string;
  url: string;
  secret: string;
}

export type WebhookEventRow = AssetEventRow & { owner_id: string };

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

// Advisory lock namespace for "registering a webhook for owner X" (first key of the two-key form).
const REGISTRATION_LOCK = 0x77656268;

/** All SQL about webhooks (registrations) and webhook_deliveries (one row per event and webhook). */
export class WebhookRepository {
  constructor(private readonly db: Db) {}

  /**
   * Inserts the webhook unless the owner already has `limit` of them (then returns undefined). Registrations of one
   * owner are serialised by a transaction-scoped lock, so concurrent requests cannot overshoot the limit.
   */
  async createWithin(webhook: NewWebhook, limit: number): Promise<WebhookView | undefined> {
    return this.db.transaction().execute(async (tx) => {
      await sql`select pg_advisory_xact_lock(${REGISTRATION_LOCK}, hashtext(${webhook.ownerId}))`.execute(tx);
      const { count } = await tx
        .selectFrom('webhooks')
        .select((eb) => eb.fn.countAll<string>().as('count'))
        .where('owner_id', '=', webhook.ownerId)
        .executeTakeFirstOrThrow();
      if (Number(count) >= limit) return undefined;
      const row = await tx
        .insertInto('webhooks')
        .values({
          webhook_id: webhook.webhookId,
          owner_id: webhook.ownerId,
          url: webhook.url,
          secret: webhook.secret,
        })
        .returning(['webhook_id', 'url', 'created_at'])
        .executeTakeFirstOrThrow();
      return { webhookId: row.webhook_id, url: row.url, createdAt: row.created_at };
    });
  }

  async listByOwner(ownerId: string): Promise<WebhookView[]> {
    const rows = await this.db
      .selectFrom('webhooks')
      .select(['webhook_id', 'url', 'created_at'])
      .where('owner_id', '=', ownerId)
      .orderBy('created_at')
      .orderBy('webhook_id')
      .execute();
    return rows.map((r) => ({ webhookId: r.webhook_id, url: r.url, createdAt: r.created_at }));
  }

  /** Deletes the owner's webhook (its deliveries go with it); false if the owner has no such webhook. */
  async deleteOwned(ownerId: string, webhookId: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('webhooks')
      .where('webhook_id', '=', webhookId)
      .where('owner_id', '=', ownerId)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async find(webhookId: string): Promise<{ url: string; secret: string } | undefined> {
    return this.db
      .selectFrom('webhooks')
      .select(['url', 'secret'])
      .where('webhook_id', '=', webhookId)
      .executeTakeFirst();
  }

  /** The webhooks of the owner of the event's asset. */
  async targetsOfEvent(eventId: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('asset_events as e')
      .innerJoin('media_assets as a', 'a.asset_id', 'e.asset_id')
      .innerJoin('webhooks as w', 'w.owner_id', 'a.owner_id')
      .select('w.webhook_id')
      .where('e.event_id', '=', eventId)
      .orderBy('w.created_at')
      .orderBy('w.webhook_id')
      .execute();
    return rows.map((r) => r.webhook_id);
  }

  async findEvent(eventId: string): Promise<WebhookEventRow | undefined> {
    return this.db
      .selectFrom('asset_events as e')
      .innerJoin('media_assets as a', 'a.asset_id', 'e.asset_id')
      .selectAll('e')
      .select('a.owner_id')
      .where('e.event_id', '=', eventId)
      .executeTakeFirst();
  }

  /**
   * Counts one more attempt of a pending delivery (creating the row on the first) and returns the count; undefined
   * when the delivery is already delivered or failed.
   */
  async beginAttempt(deliveryId: string, webhookId: string, eventId: string): Promise<number | undefined> {
    const row = await this.db
      .insertInto('webhook_deliveries')
      .values({
        delivery_id: deliveryId,
        webhook_id: webhookId,
        event_id: eventId,
        status: 'pending',
        attempts: 1,
      })
      .onConflict((oc) =>
        oc
          .column('delivery_id')
          .doUpdateSet({ attempts: sql<number>`webhook_deliveries.attempts + 1` })
          .where('webhook_deliveries.status', '=', 'pending'),
      )
      .returning('attempts')
      .executeTakeFirst();
    return row?.attempts;
  }

  async recordAttempt(
    deliveryId: string,
    outcome: { status: DeliveryStatus; statusCode: number | null; error: string | null },
  ): Promise<void> {
    await this.db
      .updateTable('webhook_deliveries')
      .set({
        status: outcome.status,
        last_status_code: outcome.statusCode,
        last_error: outcome.error,
        ...(outcome.status === 'delivered' ? { delivered_at: sql<Date>`now()` } : {}),
      })
      .where('delivery_id', '=', deliveryId)
      .execute();
  }

  /** Marks a delivery that is still pending as failed, keeping its last error after the reason. */
  async giveUp(deliveryId: string, webhookId: string, eventId: string, reason: string): Promise<void> {
    await this.db
      .insertInto('webhook_deliveries')
      .values({
        delivery_id: deliveryId,
        webhook_id: webhookId,
        event_id: eventId,
        status: 'failed',
        last_error: reason,
      })
      .onConflict((oc) =>
        oc
          .column('delivery_id')
          .doUpdateSet({
            status: 'failed',
            last_error: sql<string>`${reason} || coalesce('; last error: ' || webhook_deliveries.last_error, '')`,
          })
          .where('webhook_deliveries.status', '=', 'pending'),
      )
      .execute();
  }
}
