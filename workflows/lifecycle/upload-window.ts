import { condition } from '@temporalio/workflow';
import type { AssetOutcome } from '../definitions';
import { upload } from './activities';
import { enter, record, type RunState } from './run-state';

/**
 * Pending: the client uploads straight to object storage with the pre-signed URL. A run started with its first task
 * delayed until the URL expires wakes early only for a completion or a delete (both signal-with-start). A completed
 * upload is recorded before this returns.
 */
export async function uploadWindow(run: RunState): Promise<'uploaded' | 'deleted' | 'expired'> {
  const { input, requests } = run;
  const settled = () => requests.completion !== undefined || requests.deletion !== undefined;
  const openMs = input.uploadExpiresAt
    ? Date.parse(input.uploadExpiresAt) - Date.now()
    : input.uploadTtlSeconds * 1000;
  let uploaded = openMs > 0 ? await condition(settled, openMs) : settled();
  // A renewed session keeps the window open until its new expiry (runs without a renewal wait as they always did).
  while (!uploaded && requests.uploadExpiresAt && Date.parse(requests.uploadExpiresAt) > Date.now()) {
    uploaded = await condition(settled, Date.parse(requests.uploadExpiresAt) - Date.now());
  }
  if (requests.deletion) return 'deleted';
  if (!uploaded) return 'expired';
  await record(run, 'processing', `upload completed (reported by ${requests.completion!.source})`);
  return 'uploaded';
}

/** Nothing (complete) arrived in time: whatever was uploaded goes. */
export async function expireUpload(run: RunState): Promise<AssetOutcome> {
  await upload.discard({ objectKey: run.input.objectKey });
  enter(run, 'done');
  return record(run, 'expired', `upload not completed within ${run.input.uploadTtlSeconds} s`);
}
