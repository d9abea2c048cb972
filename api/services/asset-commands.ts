import type { AssetRepository } from '../../infra/adapters/asset-repository';
import type { EventPublisher } from '../../infra/adapters/event-publisher';
import type { WorkflowGateway } from '../../infra/adapters/workflow-gateway';
import type { MediaAssetRow } from '../../infra/db/schema';
import type { AssetDocCache } from '../asset-docs';
import type { Principal } from '../auth';
import { lifecycleInput, type LifecycleSettings } from '../lifecycle-input';
import { AuthorisedAsset } from './access-control';
import { assetNotFound, conflict } from './errors';

/** The asset's status now: its workflow may have moved it since the access check read the row. */
export async function currentStatus(assets: AssetRepository, asset: MediaAssetRow) {
  const current = (await assets.findById(asset.asset_id)) ?? asset;
  return { assetId: asset.asset_id, status: current.status };
}

/** Delete, restore and retry: each is a signal to the asset's workflow, which makes the change. */
export class AssetCommands {
  constructor(
    private readonly deps: {
      assets: AssetRepository;
      events: EventPublisher;
      workflows: WorkflowGateway;
      assetDocs?: AssetDocCache | undefined;
      settings: LifecycleSettings;
    },
  ) {}

  async delete(target: AuthorisedAsset) {
    const asset = AuthorisedAsset.row(target);
    if (asset.status === 'deleted') return currentStatus(this.deps.assets, asset);
    const reason = `deleted by ${target.principal.userId}`;
    // A pending asset's workflow may not have started, or sleeps out its start delay: signal-with-start wakes it.
    const pending = asset.status === 'pending' ? lifecycleInput(asset, this.deps.settings) : undefined;
    const signalled = await this.deps.workflows.delete(asset.asset_id, reason, pending);
    // Rejected and expired assets have no workflow left and nothing stored: the record alone changes.
    if (!signalled) await this.deleteRecord(asset, reason);
    return currentStatus(this.deps.assets, asset);
  }

  /** Takes an asset out of the trash; only its workflow knows whether it is there (a purge may be under way). */
  async restore(target: AuthorisedAsset) {
    const asset = AuthorisedAsset.row(target);
    const live = asset.status === 'deleted' ? await this.deps.workflows.state(asset.asset_id) : null;
    if (live?.stage !== 'trash') {
      throw conflict(`asset is ${asset.status} and not in the trash; nothing to restore`);
    }
    await this.deps.workflows.restore(asset.asset_id, target.principal.userId);
    return { assetId: asset.asset_id, status: asset.status, restoring: true };
  }

  /** An operator's retry of a failed asset re-runs the stage that failed. */
  async retry(operator: Principal, assetId: string) {
    const asset = await this.deps.assets.findById(assetId);
    if (!asset) throw assetNotFound();
    if (asset.status !== 'failed') {
      throw conflict(`asset is ${asset.status}; only failed assets can be retried`);
    }
    await this.deps.workflows.retry(assetId, operator.userId);
    return { assetId, status: asset.status, retrying: asset.failed_stage };
  }

  private async deleteRecord(asset: MediaAssetRow, reason: string): Promise<void> {
    const { assetId, eventId } = { assetId: asset.asset_id, eventId: `${asset.asset_id}/deleted` };
    const recorded = await this.deps.assets.recordTransition({
      assetId,
      eventId,
      from: asset.status,
      to: 'deleted',
      reason,
      details: {},
    });
    if (recorded.subscribed) await this.deps.events.publish(eventId);
    // Recorded here, not by the worker: this instance's next read must not wait for the notification.
    await this.deps.assetDocs?.invalidate(assetId);
  }
}
