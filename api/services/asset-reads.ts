import type { AccessRepository } from '../../infra/adapters/access-repository';
import type { AssetRepository } from '../../infra/adapters/asset-repository';
import type { BlobRepository } from '../../infra/adapters/blob-repository';
import type { Cdn } from '../../infra/adapters/cdn';
import type { WorkflowGateway } from '../../infra/adapters/workflow-gateway';
import { TERMINAL_STATUSES } from '../../domain/asset-status';
import { renditionPath } from '../../domain/delivery/asset-paths';
import { deliveryAccess } from '../../domain/delivery/delivery-access';
import { regionAllows, regionPolicyOf } from '../../domain/delivery/regions';
import type { AssetState } from '../../workflows/definitions';
import { loadAssetRecord, type AssetDocCache } from '../asset-docs';
import { withLiveStage } from '../asset-view';
import { AuthorisedAsset } from './access-control';
import { assetNotFound, conflict, ServiceError } from './errors';

const AWAITING_UPLOAD: AssetState = {
  status: 'pending',
  stage: 'awaiting-upload',
  percent: null,
  reason: null,
};

/** One asset as its caller sees it, and where its bytes are delivered from. */
export class AssetReads {
  constructor(
    private readonly deps: {
      assets: AssetRepository;
      blobs: BlobRepository;
      acl: AccessRepository;
      cdn: Cdn;
      workflows: WorkflowGateway;
      assetDocs?: AssetDocCache | undefined;
    },
  ) {}

  /** The record (cached while it is current) and the workflow's live stage, which is never cached. */
  async view(target: AuthorisedAsset) {
    const { assetDocs, workflows } = this.deps;
    const { assetId } = target;
    const load = () => loadAssetRecord(this.deps, assetId);
    // The access check read the row (one primary-key lookup); the cache spares assembling the rest.
    const version = Number(AuthorisedAsset.row(target).doc_version);
    const record = assetDocs ? await assetDocs.read(assetId, version, load) : await load();
    if (!record) throw assetNotFound();
    const settled = TERMINAL_STATUSES.includes(record.status) || record.status === 'ready';
    // A pending asset's workflow sleeps out its start delay, with no task to answer a query: the row says it all.
    const live =
      record.status === 'pending' ? AWAITING_UPLOAD : settled ? null : await workflows.state(assetId);
    return withLiveStage(record, live);
  }

  /** A URL at the edge for the original or one rendition: signed, or the stable one of a public asset. */
  async deliveryUrl(
    target: AuthorisedAsset,
    rendition: string | undefined,
    viewerCountry?: string | undefined,
  ): Promise<string> {
    const asset = AuthorisedAsset.row(target);
    if (asset.status !== 'ready') {
      throw conflict(`asset is ${asset.status}; only ready assets can be delivered`);
    }
    // No URL the edge would refuse: a viewer whose country is known and refused is told here (unknown: the edge decides).
    if (viewerCountry && !regionAllows(regionPolicyOf(asset), viewerCountry)) {
      throw new ServiceError(
        'unavailable-here',
        `this asset is not available in the viewer's country (${viewerCountry})`,
        {
          country: viewerCountry,
        },
      );
    }
    // An embargo: before a scheduled release only its owner (and operators) get its bytes, grantees included.
    const { principal } = target;
    const embargoed = asset.publish_at && new Date(asset.publish_at) > new Date();
    if (embargoed && !principal.operator && principal.userId !== asset.owner_id) {
      throw new ServiceError(
        'forbidden',
        `embargoed until ${new Date(asset.publish_at!).toISOString()}: only its owner is delivered it before then`,
      );
    }
    let path = 'original';
    if (rendition !== undefined) {
      const names = asset.blob_sha256
        ? (await this.deps.blobs.renditions(asset.blob_sha256)).map((r) => r.name)
        : [];
      if (!names.includes(rendition)) {
        const have = names.join(', ') || 'none';
        throw new ServiceError('not-found', `no rendition ${rendition} for this asset; it has: ${have}`);
      }
      path = renditionPath(rendition);
    }
    return this.deps.cdn.deliveryUrl(asset.asset_id, path, deliveryAccess(asset));
  }
}
