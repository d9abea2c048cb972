import { checkStillRenditions, isStillKind } from '../../domain/still-renditions';
import type { AssetOutcome } from '../definitions';
import { assets, blobs, mediaWork } from './activities';
import { gate } from './gates';
import { Deleted, OutputRejected, Rejected, runStage } from './pipeline-stage';
import { enter, record, type RunState } from './run-state';
import { deleteAsset } from './trash-retention';
import type { ClaimedUpload } from './verify-and-dedup';

export const STILLS_CHECKED_IN_WORKFLOW_PATCH = 'stills-checked-in-workflow';

/** What became of the blob: the outcome every asset on it shares. */
export interface BlobResult {
  status: 'ready' | 'quarantined' | 'failed';
  reason: string;
}

/**
 * Runs the work from verification to the recorded outcome in the run's processing scope, which a delete cancels.
 * Returns the outcome, or the end of an asset that was deleted or refused by policy on the way.
 */
export async function cancellableByDelete(
  run: RunState,
  work: () => Promise<AssetOutcome>,
): Promise<AssetOutcome> {
  let outcome: AssetOutcome;
  try {
    outcome = await run.processing.run(work);
  } catch (err) {
    // Whatever the cancelled work threw on its way out, a requested delete wins.
    if (err instanceof Deleted || run.requests.deletion) return deleteAsset(run);
    if (!(err instanceof Rejected)) throw err;
    // Refused by policy (a decompression bomb): the bytes are of no use to anyone, so they go.
    await blobs.fail({ sha256: run.sha256!, reason: err.message });
    await blobs.release({ assetId: run.input.assetId, sha256: run.sha256! });
    enter(run, 'done');
    return record(run, 'rejected', err.message, {}, { stage: err.stage });
  }
  // A delete that came while a rejection was recorded: the rejected asset has nothing left to keep or trash.
  const requested = run.requests.deletion;
  if (outcome.status === 'rejected' && requested) {
    return record(run, 'deleted', requested.reason, {}, { stage: 'done' });
  }
  return outcome;
}

/** The blob's owner scans, inspects, renders and validates; a duplicate waits for that outcome. */
export async function processContent(run: RunState, claimed: ClaimedUpload): Promise<BlobResult> {
  if (claimed.blob.role === 'owner') return processBlob(run, claimed);
  enter(run, 'await-original');
  const found = await blobs.awaitOriginal({ sha256: claimed.blob.sha256, assetId: run.input.assetId });
  // 'owned': the owner was deleted mid-processing and handed the blob to this asset.
  return found.status === 'owned'
    ? processBlob(run, claimed)
    : { status: found.status, reason: found.reason ?? `stored content is ${found.status}` };
}

/** Scans, inspects, renders and checks a blob this asset is responsible for; returns the blob's outcome. */
async function processBlob(run: RunState, { blob, sizeBytes, family }: ClaimedUpload): Promise<BlobResult> {
  const failBlob = (reason: string) => blobs.fail({ sha256: blob.sha256, reason });
  const media = mediaWork(family, run.input.assetId);
  const ref = { sha256: blob.sha256, blobKey: blob.blobKey, sizeBytes };

  const scan = await runStage(run, 'scan', () => media.scan(blob, sizeBytes), failBlob);
  if (scan.verdict === 'infected') return { status: 'quarantined', reason: `virus found: ${scan.signature}` };
  await record(run, 'processing', `scan: ${scan.verdict}`, { ...scan }, { stage: 'scan' });

  const info = await runStage(run, 'metadata', () => media.extractMetadata({ ...ref, family }), failBlob);
  await record(run, 'processing', `metadata: ${info.kind}`, { ...info }, { stage: 'metadata' });

  // Validation failing sends a retry back to rendering: the outputs were the problem, not the check.
  const rendered = await runStage(
    run,
    'renditions',
    async () => {
      const candidate = await media.render({ ...ref, info });
      enter(run, 'validate');
      // An image's or a page's check needs no file: the workflow makes it, saving a media task and a workflow task
      // per asset. Runs recorded before ask the validate activity, which applies the same rule.
      const report =
        isStillKind(info.kind) && gate(STILLS_CHECKED_IN_WORKFLOW_PATCH)
          ? checkStillRenditions(candidate.renditions)
          : await media.validate({ ...ref, info, ...candidate });
      if (!report.ok)
        throw new OutputRejected(report.reason ?? 'out of bounds', 'validate', report.measurements);
      await record(run, 'processing', 'renditions validated', report.measurements, { stage: 'validate' });
      return candidate;
    },
    failBlob,
  );
  await runStage(run, 'publish', () => blobs.publishRenditions({ sha256: blob.sha256, ...rendered }));
  const n = rendered.renditions.length;
  return { status: 'ready', reason: `${n} rendition${n === 1 ? '' : 's'} published` };
}

/** The end state, with the blob's facts copied onto the asset. From here on a delete sends it to the trash. */
export async function settle(
  run: RunState,
  claimed: ClaimedUpload,
  result: BlobResult,
): Promise<AssetOutcome> {
  run.settling = true;
  enter(run, 'done');
  if (result.status === 'ready') {
    await assets.copyMediaMetadata({ assetId: run.input.assetId, sha256: claimed.blob.sha256 });
  }
  return record(run, result.status, result.reason, { sha256: claimed.blob.sha256 });
}
