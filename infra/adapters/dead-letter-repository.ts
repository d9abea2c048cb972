import { sql } from 'kysely';
import type { Db } from '../db/database';

export interface DeadLetter {
  assetId: string;
  stage: string;
  /** The lost attempts' causes, e.g. "heartbeat timeout ×3". */
  cause: string;
  attempts: number;
  firstSeenAt: string;
  lastSeenAt: string;
  sha256: string | null;
  blobKey: string | null;
}

export interface DeadLetterView extends DeadLetter {
  quarantines: number;
  /** The asset's status now: an operator's retry may have brought it past the stage since. */
  assetStatus: string;
}

/** Poison inputs, kept for an operator's inspection (migration 014). */
export class DeadLetterRepository {
  constructor(private readonly db: Db) {}

  /** Idempotent per quarantine (a local activity may run twice): the same lastSeenAt is not counted again. */
  async record(letter: DeadLetter): Promise<void> {
    await this.db
      .insertInto('dead_letters')
      .values({
        asset_id: letter.assetId,
        stage: letter.stage,
        cause: letter.cause,
        attempts: letter.attempts,
        blob_sha256: letter.sha256,
        blob_key: letter.blobKey,
        first_seen_at: letter.firstSeenAt,
        last_seen_at: letter.lastSeenAt,
      })
      .onConflict((oc) =>
        oc
          .columns(['asset_id', 'stage'])
          .doUpdateSet({
            cause: (eb) => eb.ref('excluded.cause'),
            attempts: sql<number>`dead_letters.attempts + excluded.attempts`,
            quarantines: sql<number>`dead_letters.quarantines + 1`,
            blob_sha256: (eb) => eb.ref('excluded.blob_sha256'),
            blob_key: (eb) => eb.ref('excluded.blob_key'),
            last_seen_at: (eb) => eb.ref('excluded.last_seen_at'),
          })
          .where('dead_letters.last_seen_at', '<', (eb) => eb.ref('excluded.last_seen_at')),
      )
      .execute();
  }

  /** Most recently quarantined first; `before` is the last row of the previous page. */
  async list(limit: number, before?: { lastSeenAt: Date; assetId: string }): Promise<DeadLetterView[]> {
    let query = this.db
      .selectFrom('dead_letters as d')
      .innerJoin('media_assets as a', 'a.asset_id', 'd.asset_id')
      .select([
        'd.asset_id',
        'd.stage',
        'd.cause',
        'd.attempts',
        'd.quarantines',
        'd.blob_sha256',
        'd.blob_key',
        'd.first_seen_at',
        'd.last_seen_at',
        'a.status',
      ])
      .orderBy('d.last_seen_at', 'desc')
      .orderBy('d.asset_id', 'desc')
      .limit(limit);
    if (before) {
      query = query.where((eb) =>
        eb(eb.refTuple('d.last_seen_at', 'd.asset_id'), '<', eb.tuple(before.lastSeenAt, before.assetId)),
      );
    }
    const rows = await query.execute();
    return rows.map((r) => ({
      assetId: r.asset_id,
      stage: r.stage,
      cause: r.cause,
      attempts: r.attempts,
      quarantines: r.quarantines,
      sha256: r.blob_sha256,
      blobKey: r.blob_key,
      firstSeenAt: new Date(r.first_seen_at).toISOString(),
      lastSeenAt: new Date(r.last_seen_at).toISOString(),
      assetStatus: r.status,
    }));
  }
}
