import { ActivityFailure, ApplicationFailure, condition } from '@temporalio/workflow';
import { MEDIA_FAILURE, MEDIA_REJECTED, type PipelineStage } from '../definitions';
import { blobs } from './activities';
import { enter, record, type RunState } from './run-state';

/** Thrown out of a failed stage when the asset is deleted instead of retried. */
export class Deleted extends Error {}

/** Refused by policy (a decompression bomb): the asset is rejected, with no retry. */
export class Rejected extends Error {
  constructor(
    message: string,
    readonly stage: PipelineStage,
  ) {
    super(message);
  }
}

/** Output outside its bounds: handled like a media failure of the stage named, so a retry renders again. */
export class OutputRejected extends Error {
  constructor(
    message: string,
    readonly stage: PipelineStage,
    readonly details: Record<string, unknown>,
  ) {
    super(message);
  }
}

interface StageFailure {
  stage: PipelineStage;
  reason: string;
  details: unknown;
}

/**
 * Runs one pipeline stage. Corrupt or unsupported media fails the asset with the stage and reason; the asset then
 * waits for an operator's retry, which runs the same stage again, or for its deletion.
 */
export async function runStage<T>(
  run: RunState,
  name: PipelineStage,
  work: () => Promise<T>,
  onFailure?: (reason: string) => Promise<void>,
): Promise<T> {
  for (;;) {
    enter(run, name);
    try {
      return await work();
    } catch (err) {
      const failed = asStageFailure(err, name);
      await onFailure?.(failed.reason);
      await failAndAwaitRetry(run, failed);
      await record(
        run,
        'processing',
        `retry of ${failed.stage} requested by an operator`,
        {},
        { stage: name },
      );
    }
  }
}

/**
 * A media failure or out-of-bounds output is a failure of its stage. Media refused by policy rejects the asset
 * (thrown as Rejected); anything else is not the media's fault and goes up unchanged.
 */
function asStageFailure(err: unknown, name: PipelineStage): StageFailure {
  const failure = err instanceof ActivityFailure ? err.cause : err;
  if (failure instanceof ApplicationFailure && failure.type === MEDIA_REJECTED) {
    throw new Rejected(`${name}: ${failure.message}`, name);
  }
  if (err instanceof OutputRejected) {
    return { stage: err.stage, reason: `${err.stage} failed: ${err.message}`, details: err.details };
  }
  if (failure instanceof ApplicationFailure && failure.type === MEDIA_FAILURE) {
    return { stage: name, reason: `${name} failed: ${failure.message}`, details: failure.details?.[0] ?? {} };
  }
  throw err;
}

async function failAndAwaitRetry(run: RunState, failed: StageFailure): Promise<void> {
  const { requests } = run;
  enter(run, 'failed');
  await record(run, 'failed', failed.reason, { details: failed.details }, { stage: failed.stage });
  await condition(() => requests.retry || requests.deletion !== undefined);
  if (requests.deletion) throw new Deleted();
  requests.retry = false;
  // The failed blob is processing again, under this asset: duplicates arriving now wait for this retry.
  if (run.sha256) await blobs.takeOver({ sha256: run.sha256, assetId: run.input.assetId });
}
