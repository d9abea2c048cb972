import { sql } from 'kysely';
import type { Db } from '../db/database';
import type { MediaAssetRow } from '../db/schema';

/** Retries of a start that failed wait 5 s, doubling, at most 5 min. */
const BACKOFF = sql`make_interval(secs => least(300, 5 * power(2, w.attempts)))`;

/**
 * The outbox of asset workflows to start (migration 011). Rows are written with the asset
 * (AssetRepository.createPending) and removed once the workflow is known to exist.
 */
export class WorkflowStartRepository {
  constructor(private readonly db: Db) {}

  /**
   * Takes up to `limit` starts that are due, each with its asset, and moves them out of the way for their backoff:
   * API instances sweeping together skip each other's rows, and one that dies mid-start leaves the row for later.
   */
  async claimDue(limit: number): Promise<MediaAssetRow[]> {
    const { rows } = await sql<MediaAssetRow>`
      with due as (
        select asset_id from workflow_starts where due_at <= now()
        order by due_at limit ${limit} for update skip locked
      ), claimed as (
        update workflow_starts w set attempts = w.attempts + 1, due_at = now() + ${BACKOFF}
        from due where w.asset_id = due.asset_id returning w.asset_id
      )
      select a.* from media_assets a join claimed c on c.asset_id = a.asset_id`.execute(this.db);
    return rows;
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

  /** How many starts are owed (the API's `assetline_workflow_starts_owed`). */
  async count(): Promise<number> {
    const row = await this.db
      .selectFrom('workflow_starts')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async find(assetId: string): Promise<{ attempts: number; last_error: string | null } | undefined> {
    return this.db
      .selectFrom('workflow_starts')
      .select(['attempts', 'last_error'])
      .where('asset_id', '=', assetId)
      .executeTakeFirst();
  }
}
