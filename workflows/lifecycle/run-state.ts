import { CancellationScope, log, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { AssetStatus } from '../../domain/asset-status';
import {
  AssetStatusAttribute,
  type AssetLifecycleInput,
  type AssetOutcome,
  type AssetStage,
  type AssetState,
  type Tier,
  type ReleaseSchedule,
  type UploadCompleted,
} from '../definitions';
import { assets } from './activities';

/** What signals asked for: the handlers set these, and a phase clears the ones it has acted on. */
export interface Requests {
  /** The first report of the finished upload (the API's or the storage event's). */
  completion: UploadCompleted | undefined;
  /** A delete to carry out; the trash's and the retention's purges set one too. */
  deletion: { reason: string } | undefined;
  retry: boolean;
  restore: boolean;
  /** Read since the tiering last looked: the idle window starts over and a warm or cold blob comes back. */
  accessed: boolean;
  /** Epoch milliseconds of the latest read those signals reported (the read itself, not when it was flushed). */
  accessedAtMs: number;
  /** The owner's latest visibility change, for the release clock to re-arm on. */
  release: ReleaseSchedule | undefined;
  /** A renewed upload session's new expiry (ISO 8601): the upload window stays open until then. */
  uploadExpiresAt: string | undefined;
}

/** Everything a run of the asset workflow knows, in the one object its phases are given. */
export interface RunState {
  readonly input: AssetLifecycleInput;
  /** What the assetState query answers: enter() and record() keep it current. */
  readonly asset: AssetState;
  readonly requests: Requests;
  /** Verification and processing run in this scope, so a delete can cancel them wherever they are. */
  readonly processing: CancellationScope;
  /** The outcome is being recorded: from here on a delete no longer cancels, the asset goes to the trash. */
  settling: boolean;
  /** The blob this asset holds a reference on, once claimed. */
  sha256: string | undefined;
  tier: Tier;
  /** Epoch milliseconds of the last read, or of the last tier move when that came later. */
  lastAccessMs: number;
  /** Epoch milliseconds of the blob's last move between tiers; 0 before the first. */
  tierMovedMs: number;
  /** Events recorded by this run: numbers their ids, which make recording an event idempotent. */
  transitions: number;
  /** The visibility and schedule the release clock keeps (carried over a continue-as-new). */
  release: ReleaseSchedule | undefined;
}

/** A fresh run, or one continued as new, which picks up the asset's life where the last run left it. */
export function newRunState(input: AssetLifecycleInput): RunState {
  const resume = input.resume;
  return {
    input,
    asset: {
      status: resume?.status ?? 'pending',
      stage: resume ? 'done' : 'awaiting-upload',
      percent: null,
      reason: null,
    },
    requests: {
      completion: undefined,
      deletion: undefined,
      retry: false,
      restore: false,
      accessed: false,
      accessedAtMs: 0,
      release: undefined,
      uploadExpiresAt: undefined,
    },
    processing: new CancellationScope(),
    settling: false,
    sha256: resume?.sha256 ?? undefined,
    tier: resume?.tier ?? 'hot',
    lastAccessMs: resume?.lastAccessMs ?? Date.now(),
    tierMovedMs: resume?.tierMovedMs ?? 0,
    transitions: 0,
    release: input.release,
  };
}

export function enter(run: RunState, stage: AssetStage): void {
  run.asset.stage = stage;
  run.asset.percent = null;
}

/**
 * Records an event on the asset, and the new status when it changes (the row, the webhook, the search attribute).
 * The stage defaults to the one the workflow is in.
 */
export async function record(
  run: RunState,
  to: AssetStatus,
  reason: string,
  details: Record<string, unknown> = {},
  extra: { checksumSha256?: string; stage?: AssetStage } = {},
): Promise<AssetOutcome> {
  run.transitions += 1;
  const eventId = `${workflowInfo().workflowId}/${workflowInfo().runId}/${run.transitions}`;
  await assets.recordTransition({
    assetId: run.input.assetId,
    eventId,
    from: run.asset.status,
    to,
    reason,
    details,
    checksumSha256: extra.checksumSha256,
    stage: extra.stage ?? run.asset.stage,
  });
  if (to !== run.asset.status) {
    run.asset.status = to;
    upsertSearchAttributes([{ key: AssetStatusAttribute, value: to }]);
  }
  run.asset.reason = reason;
  log.info('asset event', { assetId: run.input.assetId, to, reason });
  return { status: to, reason };
}
