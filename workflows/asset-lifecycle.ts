import {
  condition,
  log,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { AssetStatus } from '../shared/asset-status';
import type { LifecycleActivities } from '../activities';
import {
  assetStateQuery,
  AssetStatusAttribute,
  uploadCompletedSignal,
  type AssetLifecycleInput,
  type AssetOutcome,
  type AssetState,
  type Stage,
  type UploadCompleted,
} from './definitions';

// Infrastructure errors (S3 or Postgres away) are retried without limit: the asset waits, it is never lost.
// Bad input is not an error here; activities report it as a result and the workflow decides.
const retry = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' } as const;

const bookkeeping = proxyActivities<LifecycleActivities>({
  startToCloseTimeout: '30s',
  retry,
});

const storage = proxyActivities<LifecycleActivities>({
  startToCloseTimeout: '6h',
  heartbeatTimeout: '1m',
  retry,
});

/** One asset's whole life, from the pre-signed upload to its end state. */
export async function assetLifecycle(input: AssetLifecycleInput): Promise<AssetOutcome> {
  const state: AssetState = { status: 'pending', stage: 'awaiting-upload', percent: null, reason: null };
  let completion: UploadCompleted | undefined;
  let transitions = 0;

  setHandler(assetStateQuery, () => state);
  setHandler(uploadCompletedSignal, (signal) => {
    // The API and S3's event notification may both report the same upload; the first one counts.
    completion ??= signal;
  });

  const enter = (stage: Stage) => {
    state.stage = stage;
    state.percent = null;
  };

  const transition = async (
    to: AssetStatus,
    reason: string,
    details: Record<string, unknown> = {},
    checksumSha256?: string,
  ): Promise<AssetOutcome> => {
    transitions += 1;
    await bookkeeping.recordTransition({
      assetId: input.assetId,
      eventId: `${workflowInfo().workflowId}/${workflowInfo().runId}/${transitions}`,
      from: state.status,
      to,
      reason,
      details,
      checksumSha256,
    });
    state.status = to;
    state.reason = reason;
    upsertSearchAttributes([{ key: AssetStatusAttribute, value: to }]);
    log.info('asset transition', { assetId: input.assetId, to, reason });
    return { status: to, reason };
  };

  // 1. Pending: the client uploads straight to object storage with the pre-signed URL.
  const uploaded = await condition(() => completion !== undefined, input.uploadTtlSeconds * 1000);
  if (!uploaded) {
    await storage.discardUpload({ objectKey: input.objectKey });
    enter('done');
    return transition('expired', `upload not completed within ${input.uploadTtlSeconds} s`);
  }
  await transition('processing', `upload completed (reported by ${completion!.source})`);

  // 2. Verification: the bytes in storage must be the bytes the client declared.
  enter('verifying');
  const verified = await storage.verifyUpload({
    objectKey: input.objectKey,
    declaredSizeBytes: input.declaredSizeBytes,
    declaredChecksumSha256: input.declaredChecksumSha256,
  });
  if (!verified.ok) {
    await storage.discardUpload({ objectKey: input.objectKey });
    enter('done');
    return transition('rejected', verified.reason, verified.details);
  }

  enter('done');
  return transition(
    'ready',
    'size and SHA-256 verified',
    { sizeBytes: verified.sizeBytes, sha256: verified.sha256 },
    verified.sha256,
  );
}
