import { Router } from 'express';
import { TERMINAL_STATUSES } from '../../shared/asset-status';
import { HttpProblem, notFound } from '../problem';
import { parseAssetId } from '../schemas';
import { withLiveStage } from '../asset-view';
import { loadAssetRecord } from '../asset-docs';
import { principalOf, type RouteContext } from '../route-context';
import type { AssetState } from '../../workflows/definitions';

const AWAITING_UPLOAD: AssetState = {
  status: 'pending',
  stage: 'awaiting-upload',
  percent: null,
  reason: null,
};

/** One asset: read it, delete it, retry it. */
export function mediaRoutes({ deps, workflows, access }: RouteContext): Router {
  const router = Router();

  router.get('/media/:id', async (req, res) => {
    const principal = principalOf(req);
    const assetId = parseAssetId(req.params.id);
    // The access check reads the row (one primary-key lookup); the cache spares assembling the rest.
    const asset = await access.require(principal, assetId, 'read');
    const load = () => loadAssetRecord(deps, assetId);
    const version = Number(asset.doc_version);
    const record = deps.assetDocs ? await deps.assetDocs.read(assetId, version, load) : await load();
    if (!record) throw notFound();
    const settled = TERMINAL_STATUSES.includes(record.status) || record.status === 'ready';
    // A pending asset's workflow sleeps out its start delay, with no task to answer a query: the row says it all.
    const live =
      record.status === 'pending' ? AWAITING_UPLOAD : settled ? null : await workflows.state(assetId);
    res.json(withLiveStage(record, live));
  });

  router.delete('/media/:id', async (req, res) => {
    const principal = principalOf(req);
    const assetId = parseAssetId(req.params.id);
    const asset = await access.require(principal, assetId, 'delete');
    if (asset.status !== 'deleted') {
      const signalled = await workflows.delete(asset, `deleted by ${principal.userId}`);
      // Rejected and expired assets have no workflow left and nothing stored: the record alone changes.
      if (!signalled) {
        await deps.assets.recordTransition({
          assetId,
          eventId: `${assetId}/deleted`,
          from: asset.status,
          to: 'deleted',
          reason: `deleted by ${principal.userId}`,
          details: {},
        });
        await deps.events.publish(`${assetId}/deleted`);
        // Recorded here, not by the worker: this instance's next read must not wait for the notification.
        await deps.assetDocs?.invalidate(assetId);
      }
    }
    const current = (await deps.assets.findById(assetId)) ?? asset;
    res.status(202).json({ assetId, status: current.status });
  });

  router.post('/media/:id/restore', async (req, res) => {
    const principal = principalOf(req);
    const assetId = parseAssetId(req.params.id);
    const asset = await access.require(principal, assetId, 'delete');
    const live = asset.status === 'deleted' ? await workflows.state(assetId) : null;
    if (live?.stage !== 'trash') {
      throw new HttpProblem(
        409,
        'Conflict',
        `asset is ${asset.status} and not in the trash; nothing to restore`,
      );
    }
    await workflows.restore(assetId, principal.userId);
    res.status(202).json({ assetId, status: asset.status, restoring: true });
  });

  router.post('/media/:id/retry', async (req, res) => {
    const principal = principalOf(req);
    if (!principal.operator) throw notFound('no route for POST /media/:id/retry without the operator role');
    const assetId = parseAssetId(req.params.id);
    const asset = await deps.assets.findById(assetId);
    if (!asset) throw notFound();
    if (asset.status !== 'failed') {
      throw new HttpProblem(409, 'Conflict', `asset is ${asset.status}; only failed assets can be retried`);
    }
    await workflows.retry(assetId, principal.userId);
    res.status(202).json({ assetId, status: asset.status, retrying: asset.failed_stage });
  });

  return router;
}
