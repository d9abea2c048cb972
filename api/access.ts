import type { AccessRepository, Permission } from '../shared/adapters/access-repository';
import type { AssetRepository } from '../shared/adapters/asset-repository';
import type { MediaAssetRow } from '../shared/db/schema';
import type { Principal } from './auth';
import { HttpProblem, notFound } from './problem';

/** The ACL principals a caller speaks for: itself, its groups, and everyone. */
export const principalsOf = (p: Principal): string[] => [
  `user:${p.userId}`,
  ...p.groups.map((g) => `group:${g}`),
  '*',
];

/**
 * Every route asks here before touching an asset. The owner and operators may do everything; others need a grant,
 * where write and delete imply read. An asset the caller may not read answers 404 exactly like a missing one, so
 * ids cannot be probed; one it may read but not change answers 403.
 */
export class AccessControl {
  constructor(
    private readonly assets: AssetRepository,
    private readonly acl: AccessRepository,
  ) {}

  async require(principal: Principal, assetId: string, permission: Permission): Promise<MediaAssetRow> {
    const asset = await this.assets.findById(assetId);
    if (!asset) throw notFound();
    await this.requireOwnedBy(principal, assetId, asset.owner_id, permission);
    return asset;
  }

  /** The same decision for a caller that already holds the record (from the cache): the owner is all it needs. */
  async requireOwnedBy(
    principal: Principal,
    assetId: string,
    ownerId: string,
    permission: Permission,
  ): Promise<void> {
    if (principal.operator || ownerId === principal.userId) return;
    const granted = await this.acl.permissions(assetId, principalsOf(principal));
    if (granted.size === 0) throw notFound();
    granted.add('read');
    if (!granted.has(permission)) {
      throw new HttpProblem(403, 'Forbidden', `you may read this asset but not ${permission} it`);
    }
  }

  /** Changing who may see an asset is its owner's (or an operator's) decision alone. */
  async requireOwner(principal: Principal, assetId: string): Promise<MediaAssetRow> {
    const asset = await this.require(principal, assetId, 'read');
    if (!principal.operator && asset.owner_id !== principal.userId) {
      throw new HttpProblem(403, 'Forbidden', 'only the owner may change who can access this asset');
    }
    return asset;
  }
}
