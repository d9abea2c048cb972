import { setHandler } from '@temporalio/workflow';
import {
  accessedSignal,
  assetStateQuery,
  deleteRequestedSignal,
  releaseScheduledSignal,
  restoreRequestedSignal,
  retryRequestedSignal,
  uploadCompletedSignal,
  uploadRenewedSignal,
} from '../definitions';
import type { RunState } from './run-state';

/**
 * The workflow's doors (definitions.ts names them for the API): signals only note what was asked in the run state,
 * where the phases wait for it; the one exception is a delete, which cancels the processing under way at once.
 */
export function handleRequests(run: RunState): void {
  const { requests } = run;
  setHandler(assetStateQuery, () => run.asset);
  setHandler(uploadCompletedSignal, (signal) => {
    // The API and S3's event notification may both report the same upload; the first one counts.
    requests.completion ??= signal;
  });
  setHandler(deleteRequestedSignal, (signal) => {
    requests.deletion ??= signal;
    // Work under way is cancelled; once the outcome is being recorded, the asset is settled and goes to the trash.
    if (!run.settling) run.processing.cancel();
  });
  setHandler(accessedSignal, ({ at }) => {
    requests.accessed = true;
    requests.accessedAtMs = Math.max(requests.accessedAtMs, Date.parse(at) || 0);
  });
  setHandler(retryRequestedSignal, () => {
    requests.retry = true;
  });
  setHandler(uploadRenewedSignal, ({ expiresAt }) => {
    // Renewals only ever move the expiry later; a late duplicate cannot shorten the window.
    const current = requests.uploadExpiresAt ?? run.input.uploadExpiresAt;
    if (!current || Date.parse(expiresAt) > Date.parse(current)) requests.uploadExpiresAt = expiresAt;
  });
  setHandler(releaseScheduledSignal, (schedule) => {
    requests.release = schedule;
  });
  setHandler(restoreRequestedSignal, () => {
    requests.restore = run.asset.stage === 'trash';
  });
}
