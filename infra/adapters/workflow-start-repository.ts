import { sql } from 'kysely';
import type { Db } from '../db/database';
import type { MediaAssetRow } from '../db/schema';

/** Retries of a start that failed wait 5 s, doubling, at most 5 min. */
const BACKOFF = sql`make_interval(secs => least(300, 5 * power(2, w.attempts)))`;

/** An owed start as a sweep claims it: the asset, and whether its first event is out. */
export type OwedStart = MediaAssetRow & { created_published: boolean };

/**
 * The outbox of asset workflows to start (migration 011). Rows are written with the asset
 * (AssetRepository.createPending), deferred until the workflow has work of its own (migration 018), and removed once
 * the workflow is known to exist or no longer needs starting.
 */
export class WorkflowStartRepository {
  constructor(private readonly db: Db) {}

  /**
   * Takes up to `limit` starts that are due, each with its asset, and moves them out of the way for their backoff:
   * API instances sweeping together skip each other's rows, and one that dies mid-start leaves the row for later.
   */
  async claimDue(limit: number): Promise<OwedStart[]> {
    const { rows } = await sql<OwedStart>`
      with due as (
        select asset_id from workflow_starts where due_at <= now()
        order by due_at limit ${limit} for update skip locked
      ), claimed as (
        update workflow_starts w set attempts = w.attempts + 1, due_at = now() + ${BACKOFF}
        from due where w.asset_id = due.asset_id returning w.asset_id, w.created_published
      )
      select a.*, c.created_published from media_assets a join claimed c on c.asset_id = a.asset_id`.execute(
      this.db,
    );
    return rows;
  }

  /** The first event is out; the start waits until `until` (a completion or delete that comes first starts it). */
  async defer(assetId: string, until: Date): Promise<void> {
    await this.db
      .updateTable('workflow_starts')
      .set({ due_at: until, attempts: 0, last_error: null, created_published: true })
      .where('asset_id', '=', assetId)
      .execute();
  }

  async done(assetId: string): Promise<void> {
    await this.db.deleteFrom('workflow_starts').where('asset_id', '=', assetId).execute();
  }

  async failed(assetId: string, error: string): Promise<void> {
    await this.db
      .updateTable('workflow_starts')
      .set({ last_error: error.slice(0, 1000) })
      .where('asset_id', '=', assetId)
      .execute();
  }

  /**
   * How many starts are owed and late: due, or failed at least once (the API's `assetline_workflow_starts_owed`).
   * Starts deferred to their time are not counted: every pending upload has one.
   */
  async count(): Promise<number> {
    const row = await this.db
      .selectFrom('workflow_starts')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where((eb) => eb.or([eb('due_at', '<=', sql<Date>`now()`), eb('last_error', 'is not', null)]))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async find(
    assetId: string,
  ): Promise<
    { attempts: number; last_error: string | null; due_at: Date; created_published: boolean } | undefined
  > {
    return this.db
      .selectFrom('workflow_starts')
      .select(['attempts', 'last_error', 'due_at', 'created_published'])
      .where('asset_id', '=', assetId)
      .executeTakeFirst();
  }
}
