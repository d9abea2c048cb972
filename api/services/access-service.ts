import type { AccessRepository, Grant } from '../../infra/adapters/access-repository';
import type { Cdn } from '../../infra/adapters/cdn';
import type { AuthorisedAsset } from './access-control';

/** Who besides the owner may read, change or delete an asset (the owner's decision: AccessControl.requireOwner). */
export class AccessService {
  constructor(private readonly deps: { acl: AccessRepository; cdn: Pick<Cdn, 'purge'> }) {}

  async grants(target: AuthorisedAsset) {
    return { assetId: target.assetId, grants: await this.deps.acl.grants(target.assetId) };
  }

  async replace(target: AuthorisedAsset, grants: Grant[]) {
    await this.deps.acl.replace(target.assetId, grants);
    // Revoked readers must not keep a cached copy or a working delivery URL.
    await this.deps.cdn.purge(target.assetId);
    return this.grants(target);
  }
}
