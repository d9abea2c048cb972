import { ApplicationFailure, Context } from '@temporalio/activity';
import { MediaError, MediaRejected, MediaStalled } from '../shared/media/types';

/** Failure types the workflow treats as "this input cannot be processed", as opposed to "try again". */
export const MEDIA_FAILURE = 'MediaError';
export const MEDIA_REJECTED = 'MediaRejected';
/** Work killed for making no progress: the workflow counts it like a lost worker (workflows/stage-guard.ts). */
export const MEDIA_STALLED = 'MediaStalled';

/** Corrupt or unsupported media fails for good; anything else is rethrown for Temporal to retry. */
export async function classifyMediaErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    // Work stopped because the activity was cancelled is reported as a cancellation, not as a failure.
    const cancelled = Context.current().cancellationSignal;
    if (cancelled.aborted) throw cancelled.reason;
    if (err instanceof MediaStalled) {
      throw ApplicationFailure.create({ message: err.message, type: MEDIA_STALLED, nonRetryable: true });
    }
    if (err instanceof MediaError) {
      throw ApplicationFailure.create({
        message: err.message,
        type: err instanceof MediaRejected ? MEDIA_REJECTED : MEDIA_FAILURE,
        nonRetryable: true,
        details: [err.details],
      });
    }
    throw err;
  }
}
