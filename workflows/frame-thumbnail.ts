import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { ThumbnailActivities } from '../activities';
import {
  MEDIA_FAILURE,
  MEDIA_STALLED,
  mediaTaskQueue,
  type ThumbnailOutcome,
  type ThumbnailRequest,
} from './definitions';

/**
 * A frame at a requested time, made on the media queue and cached as a rendition. Short-lived: the API waits for
 * its result, so a request is retried only briefly; a bad input fails at once.
 */
export async function frameThumbnail(req: ThumbnailRequest): Promise<ThumbnailOutcome> {
  const media = proxyActivities<ThumbnailActivities>({
    taskQueue: mediaTaskQueue(workflowInfo().taskQueue),
    startToCloseTimeout: '2m',
    heartbeatTimeout: '30s',
    retry: {
      initialInterval: '500ms',
      maximumAttempts: 3,
      nonRetryableErrorTypes: [MEDIA_FAILURE, MEDIA_STALLED],
    },
  });
  return media.renderFrame(req);
}
