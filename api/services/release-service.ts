import type { Cdn } from '../../infra/adapters/cdn';
import type { EventPublisher } from '../../infra/adapters/event-publisher';
import type { ReleaseRepository } from '../../infra/adapters/release-repository';
import type { WorkflowGateway } from '../../infra/adapters/workflow-gateway';
import type { AssetStatus } from '../../domain/asset-status';
import {
  isOpen,
  planRelease,
  ReleaseError,
  type Release,
  type ReleaseChange,
  type ReleaseRequest,
} from '../../domain/visibility';
import { toSchedule } from '../../workflows/definitions';
import type { AssetDocCache } from '../asset-docs';
import { lifecycleInput, type LifecycleSettings } from '../lifecycle-input';
import { AuthorisedAsset } from './access-control';
import { assetNotFound, conflict, invalid } from './errors';

/** Assets whose workflow has ended: nothing is left to keep a schedule's time. */
const NO_LIFECYCLE: AssetStatus[] = ['rejected', 'expired', 'deleted'];

/** planRelease, with its refusals as the service layer's 400 naming the field. */
export function planRequestedRelease(current: Release, req: ReleaseRequest, now = new Date()): ReleaseChange {
  try {
    return planRelease(current, req, now);
  } catch (err) {
    if (!(err instanceof ReleaseError)) throw err;
    throw invalid(`invalid request body: ${err.field} ${err.message}`, {
      errors: [{ field: err.field, message: err.message }],
    });
  }
}

export const releaseView = (assetId: string, r: Release) => ({
  assetId,
  visibility: r.visibility,
  publishAt: r.publishAt?.toISOString() ?? null,
  publishAs: r.releaseVisibility,
  unpublishAt: r.unpublishAt?.toISOString() ?? null,
  releasedAt: r.releasedAt?.toISOString() ?? null,
});

/**
 * Who may see an asset, and from when to when: the owner's decision. The change is written first (the database is
 * the truth every read checks), then its events go out and the asset's workflow re-arms its release clock.
 */
export class ReleaseService {
  constructor(
    private readonly deps: {
      releases: ReleaseRepository;
      events: EventPublisher;
      workflows: WorkflowGateway;
      cdn: Pick<Cdn, 'purge'>;
      assetDocs?: AssetDocCache | undefined;
      settings: LifecycleSettings;
    },
  ) {}

  async view(target: AuthorisedAsset) {
    const found = await this.deps.releases.read(target.assetId);
    if (!found) throw assetNotFound();
    return releaseView(target.assetId, found.release);
  }

  async change(target: AuthorisedAsset, req: ReleaseRequest) {
    const { releases, events, workflows, cdn, assetDocs, settings } = this.deps;
    const { assetId } = target;
    const now = new Date();
    const applied = await releases.apply(
      assetId,
      (current, status) => {
        if (status === 'deleted')
          throw conflict('asset is deleted: restore it before changing who may see it');
        const change = planRequestedRelease(current, req, now);
        if (NO_LIFECYCLE.includes(status) && (change.release.publishAt || change.release.unpublishAt)) {
          throw conflict(`asset is ${status}: it has no lifecycle left to keep a schedule`);
        }
        return change;
      },
      `visibility set by ${target.principal.userId}`,
    );
    if (!applied) throw assetNotFound();
    for (const eventId of applied.eventIds) await events.publish(eventId);
    if (applied.changed) {
      await assetDocs?.invalidate(assetId);
      // Readers who lost it must not keep a cached copy at the edge.
      if (!isOpen(applied.release.visibility)) await cdn.purge(assetId);
      const row = AuthorisedAsset.row(target);
      // A pending asset's workflow sleeps out its start delay: signal-with-start wakes it to keep the time.
      const pending = applied.status === 'pending' ? lifecycleInput(row, settings) : undefined;
      await workflows.scheduleRelease(assetId, toSchedule(applied.release), pending);
    }
    return releaseView(assetId, applied.release);
  }
}
