import type { RegionRepository } from '../../infra/adapters/region-repository';
import type { Cdn } from '../../infra/adapters/cdn';
import type { AssetDocCache } from '../asset-docs';
import type { RegionPolicy } from '../../domain/delivery/regions';
import { AuthorisedAsset } from './access-control';
import { assetNotFound, conflict } from './errors';

/** The policy as the API shows it (GET /media/:id too): `{mode, countries}`, or null for none. */
export const regionView = (policy: RegionPolicy | null) =>
  policy ? { mode: policy.mode, countries: [...policy.countries] } : null;

/**
 * Where an asset may be watched (domain/delivery/regions.ts): the owner's decision (AccessControl.requireOwner).
 * Delivery tokens bind the policy they were signed with; the origin also checks the current one, so a change binds
 * at once behind the edge, and the purge drops what the edge may hold under the old one.
 */
export class RegionService {
  constructor(
    private readonly deps: {
      regions: RegionRepository;
      cdn: Pick<Cdn, 'purge'>;
      assetDocs?: AssetDocCache | undefined;
    },
  ) {}

  async replace(target: AuthorisedAsset, policy: RegionPolicy | null) {
    const { assetId } = target;
    if (AuthorisedAsset.row(target).status === 'deleted')
      throw conflict('asset is deleted; its regional policy cannot change');
    const result = await this.deps.regions.replace(assetId, policy);
    if (!result.written && result.status === 'missing') throw assetNotFound();
    if (!result.written) throw conflict('asset is deleted; its regional policy cannot change');
    // This instance answers the caller's next read: it must not wait for the notification to drop its copy.
    await this.deps.assetDocs?.invalidate(assetId);
    await this.deps.cdn.purge(assetId);
    return { assetId, regions: regionView(policy) };
  }
}
