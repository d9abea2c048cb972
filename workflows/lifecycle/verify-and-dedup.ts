import type { ClaimBlobResult } from '../../activities/claim-blob';
import type { MediaFamily } from '../../domain/media-types';
import type { AssetOutcome, PipelineStage } from '../definitions';
import { assets, blobs, upload } from './activities';
import { enter, record, type RunState } from './run-state';

/** An upload that passed verification and sniffing, now a reference on the blob with its bytes. */
export interface ClaimedUpload {
  ok: true;
  blob: ClaimBlobResult;
  sizeBytes: number;
  family: MediaFamily;
}

/**
 * Checks the upload before it becomes content (size and checksum, quota, the type its bytes show), then claims the
 * blob for its bytes. Bad input is rejected here, and the upload discarded.
 */
export async function verifyAndDedup(
  run: RunState,
): Promise<ClaimedUpload | { ok: false; rejected: AssetOutcome }> {
  const { input } = run;
  // Verification: the bytes in storage must be the bytes the client declared.
  enter(run, 'verify');
  const { assemble, checksumSha256 } = run.requests.completion ?? {};
  const verified = await upload.verify({
    objectKey: input.objectKey,
    declaredSizeBytes: input.declaredSizeBytes,
    declaredChecksumSha256: input.declaredChecksumSha256 ?? checksumSha256 ?? null,
    ...(assemble ? { assemble } : {}),
  });
  if (!verified.ok) return reject(run, verified.reason, verified.details, 'verify');
  const quota = await assets.checkQuota({ assetId: input.assetId, sizeBytes: verified.sizeBytes });
  if (!quota.ok) return reject(run, quota.reason, {}, 'verify');
  await record(
    run,
    'processing',
    'size and SHA-256 verified',
    { sha256: verified.sha256 },
    { checksumSha256: verified.sha256, stage: 'verify' },
  );

  // Sniffing: the type comes from the bytes, and must be allowed and agree with the declaration.
  enter(run, 'sniff');
  const sniffed = await upload.sniff({
    assetId: input.assetId,
    objectKey: input.objectKey,
    declaredContentType: input.declaredContentType,
  });
  if (!sniffed.ok) return reject(run, sniffed.reason, { detected: sniffed.detected }, 'sniff');

  // Dedup: the same bytes are stored and processed once, whoever uploads them.
  enter(run, 'dedup');
  const blob = await blobs.claim({
    assetId: input.assetId,
    sha256: verified.sha256,
    sizeBytes: verified.sizeBytes,
    mimeType: sniffed.mimeType,
    uploadKey: input.objectKey,
  });
  run.sha256 = blob.sha256;
  await record(run, 'processing', blob.role === 'owner' ? 'new content' : 'duplicate of stored content', {
    sha256: blob.sha256,
    role: blob.role,
  });
  return { ok: true, blob, sizeBytes: verified.sizeBytes, family: sniffed.family };
}

/** Bad input before it became content: the upload goes, the reason stays. */
async function reject(
  run: RunState,
  reason: string,
  details: Record<string, unknown>,
  stage: PipelineStage,
): Promise<{ ok: false; rejected: AssetOutcome }> {
  await upload.discard({ objectKey: run.input.objectKey });
  enter(run, 'done');
  return { ok: false, rejected: await record(run, 'rejected', reason, details, { stage }) };
}
