import type { AccessRepository, Permission } from '../../infra/adapters/access-repository';
import type { AssetRepository } from '../../infra/adapters/asset-repository';
import type { MediaAssetRow } from '../../infra/db/schema';
import { mayRead, visibilityAt, type Relation } from '../../domain/visibility';
import type { Principal } from '../auth';
import { assetNotFound, ServiceError } from './errors';

/** The ACL principals a caller speaks for: itself and its groups (everyone is the asset's visibility now). */
export const principalsOf = (p: Principal): string[] => [
  `user:${p.userId}`,
  ...p.groups.map((g) => `group:${g}`),
];

/**
 * An asset the caller passed the access check for. Routes hold it and hand it to a service; the row it was read
 * from stays inside the service layer (`AuthorisedAsset.row`), so no route sees a database row.
 */
export class AuthorisedAsset {
  readonly #row: MediaAssetRow;

  constructor(
    readonly principal: Principal,
    row: MediaAssetRow,
  ) {
    this.#row = row;
  }

  get assetId(): string {
    return this.#row.asset_id;
  }

  /** For services only. */
  static row(asset: AuthorisedAsset): MediaAssetRow {
    return asset.#row;
  }
}

/**
 * Every command on an asset asks here first. The owner and operators may do everything; others need a grant,
 * where write and delete imply read, or an asset open to everyone (public, unlisted) to read it. A draft shows only
 * to its owner and grantees with write or delete (domain/visibility.ts). An asset the caller may not read is
 * refused exactly like a missing one, so ids cannot be probed; one it may read but not change is forbidden.
 */
export class AccessControl {
  constructor(
    private readonly assets: AssetRepository,
    private readonly acl: AccessRepository,
  ) {}

  async require(principal: Principal, assetId: string, permission: Permission): Promise<AuthorisedAsset> {
    const asset = await this.assets.findById(assetId);
    if (!asset) throw assetNotFound();
    if (principal.operator || asset.owner_id === principal.userId)
      return new AuthorisedAsset(principal, asset);
    const granted = await this.acl.permissions(assetId, principalsOf(principal));
    const relation: Relation =
      granted.has('write') || granted.has('delete') ? 'editor' : granted.size > 0 ? 'reader' : 'anyone';
    // As at this instant, whether or not its release clock has caught up.
    if (!mayRead(relation, visibilityAt(asset))) throw assetNotFound();
    granted.add('read');
    if (!granted.has(permission)) {
      throw new ServiceError('forbidden', `you may read this asset but not ${permission} it`);
    }
    return new AuthorisedAsset(principal, asset);
  }

  /** Changing who may see an asset is its owner's (or an operator's) decision alone. */
  async requireOwner(principal: Principal, assetId: string): Promise<AuthorisedAsset> {
    const asset = await this.require(principal, assetId, 'read');
    if (!principal.operator && AuthorisedAsset.row(asset).owner_id !== principal.userId) {
      throw new ServiceError('forbidden', 'only the owner may change who can access this asset');
    }
    return asset;
  }
}
