import { ApplicationFailure, Context } from '@temporalio/activity';
import { MediaError, MediaRejected, MediaStalled } from './media/tools/types';
import { MEDIA_FAILURE, MEDIA_REJECTED, MEDIA_STALLED } from '../workflows/definitions';

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
