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
      const failure = err instanceof ActivityFailure ? err.cause : err;
      if (failure instanceof ApplicationFailure && failure.type === MEDIA_REJECTED) {
        throw new Rejected(`${name}: ${failure.message}`, name);
      }
      let failed: { stage: PipelineStage; reason: string; details: unknown };
      if (err instanceof OutputRejected) {
        failed = { stage: err.stage, reason: `${err.stage} failed: ${err.message}`, details: err.details };
      } else if (failure instanceof ApplicationFailure && failure.type === MEDIA_FAILURE) {
        failed = {
          stage: name,
          reason: `${name} failed: ${failure.message}`,
          details: failure.details?.[0] ?? {},
        };
      } else {
        throw err;
      }
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

async function failAndAwaitRetry(
  run: RunState,
  failed: { stage: PipelineStage; reason: string; details: unknown },
): Promise<void> {
  const { requests } = run;
  enter(run, 'failed');
  await record(run, 'failed', failed.reason, { details: failed.details }, { stage: failed.stage });
  await condition(() => requests.retry || requests.deletion !== undefined);
  if (requests.deletion) throw new Deleted();
  requests.retry = false;
  // The blob failed with this asset: it is processing again, with this asset as its processor.
  if (run.sha256) await blobs.takeOver({ sha256: run.sha256, assetId: run.input.assetId });
}
