import type { MetadataChange, MetadataRepository } from '../../infra/adapters/metadata-repository';
import type { AssetDocCache } from '../asset-docs';
import { MAX_USER_TAGS } from '../schemas';
import { AuthorisedAsset } from './access-control';
import { assetNotFound, conflict, invalid } from './errors';

/** The user's own tags on an asset; the extracted media.* facts are the pipeline's and cannot be changed here. */
export class MetadataService {
  constructor(
    private readonly deps: { metadata: MetadataRepository; assetDocs?: AssetDocCache | undefined },
  ) {}

  async change(target: AuthorisedAsset, change: MetadataChange) {
    const { assetId } = target;
    if (AuthorisedAsset.row(target).status === 'deleted') throw conflict('asset is deleted');
    // Checked inside the change's transaction: two concurrent changes cannot both pass a limit only one fits.
    const metadata = await this.deps.metadata.change(assetId, change, (before, after) => {
      const [now, then] = [Object.keys(before).length, Object.keys(after).length];
      if (then > MAX_USER_TAGS) {
        const message =
          `would give the asset ${then} user tags (it has ${now}; this change adds ${then - now}); ` +
          `at most ${MAX_USER_TAGS} are allowed`;
        throw invalid(`invalid request body: set ${message}`, { errors: [{ field: 'set', message }] });
      }
    });
    if (!metadata) throw assetNotFound();
    // This instance answers the caller's next read: it must not wait for the notification to drop its copy.
    await this.deps.assetDocs?.invalidate(assetId);
    return { assetId, metadata };
  }
}
