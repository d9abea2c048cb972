import type { Db } from '../db/database';

export type Permission = 'read' | 'write' | 'delete';
export interface Grant {
  principal: string;
  permission: Permission;
}

/** The per-asset ACL (asset_acl): grants to `user:<id>`, `group:<name>` or `*` (public read). */
export class AccessRepository {
  constructor(private readonly db: Db) {}

  async grants(assetId: string): Promise<Grant[]> {
    return this.db
      .selectFrom('asset_acl')
      .select(['principal', 'permission'])
      .where('asset_id', '=', assetId)
      .orderBy('principal')
      .orderBy('permission')
      .execute();
  }

  async permissions(assetId: string, principals: string[]): Promise<Set<Permission>> {
    const rows = await this.db
      .selectFrom('asset_acl')
      .select('permission')
      .where('asset_id', '=', assetId)
      .where('principal', 'in', principals)
      .execute();
    return new Set(rows.map((r) => r.permission));
  }

  /** Replaces the asset's grants in one transaction. */
  async replace(assetId: string, grants: Grant[]): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('asset_acl').where('asset_id', '=', assetId).execute();
      if (grants.length > 0) {
        await tx
          .insertInto('asset_acl')
          .values(
            grants.map((g) => ({ asset_id: assetId, principal: g.principal, permission: g.permission })),
          )
          .onConflict((oc) => oc.doNothing())
          .execute();
      }
    });
  }
}
