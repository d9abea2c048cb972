import { S3ServiceException } from '@aws-sdk/client-s3';
import type { ObjectStore } from '../infra/adapters/object-store';
import type { MultipartAssembly } from '../workflows/definitions';
import { sha256OfObject } from './hashing/hash';
import { keepBeating } from './heartbeat';

export interface VerifyUploadInput {
  objectKey: string;
  declaredSizeBytes: number;
  declaredChecksumSha256: string | null;
  /** A multipart upload to assemble first (the API checked its parts and answered without waiting for this). */
  assemble?: MultipartAssembly;
}

export type VerifyUploadResult =
  | { ok: true; sizeBytes: number; sha256: string }
  | { ok: false; reason: string; details: Record<string, unknown> };

const HEARTBEAT_EVERY_BYTES = 8 * 1024 * 1024;
// A slow link still beats this often while bytes arrive; a stalled one stops beating, and the attempt is retried.
const HEARTBEAT_EVERY_MS = 5_000;

/**
 * Checks that the uploaded object exists, has the declared size and, when declared, the declared SHA-256. Only the
 * one hash: the chunk manifest for integrity scans is taken on the scan's read, off this stage's critical path.
 */
export function verifyUploadActivity(deps: { store: ObjectStore }) {
  return async function verifyUpload(input: VerifyUploadInput): Promise<VerifyUploadResult> {
    if (input.assemble) {
      const refused = await assemble(deps.store, input.objectKey, input.assemble);
      if (refused) return refused;
    }
    const head = await deps.store.head(input.objectKey);
    if (!head) {
      return { ok: false, reason: 'no object was uploaded at the pre-signed URL', details: {} };
    }
    if (head.sizeBytes !== input.declaredSizeBytes) {
      return {
        ok: false,
        reason: `uploaded size ${head.sizeBytes} bytes differs from declared size ${input.declaredSizeBytes} bytes`,
        details: { uploadedSizeBytes: head.sizeBytes, declaredSizeBytes: input.declaredSizeBytes },
      };
    }

    let nextBeat = HEARTBEAT_EVERY_BYTES;
    // No periodic beats: only arriving bytes beat, so a stalled read is retried at the heartbeat timeout.
    const hashed = await keepBeating(
      (beat) =>
        // Cancelling the activity (the asset was deleted meanwhile) stops the download instead of finishing it.
        sha256OfObject(deps.store, input.objectKey, {
          signal: beat.signal,
          onProgress: (read) => {
            if (beat.throttled({ bytesHashed: read, totalBytes: head.sizeBytes }, read >= nextBeat))
              nextBeat = read + HEARTBEAT_EVERY_BYTES;
          },
        }),
      { everyMs: null, minGapMs: HEARTBEAT_EVERY_MS },
    );
    // Gone since the HEAD: the next attempt's HEAD decides what that means.
    if (!hashed) throw new Error(`object ${input.objectKey} disappeared while being read`);
    const { sha256, bytes } = hashed;
    if (bytes !== head.sizeBytes) {
      // The object changed under us (overwritten through a still-valid URL); hashing it again decides.
      throw new Error(
        `object ${input.objectKey} changed while hashing (${bytes} of ${head.sizeBytes} bytes)`,
      );
    }
    if (input.declaredChecksumSha256 && sha256 !== input.declaredChecksumSha256) {
      return {
        ok: false,
        reason: `SHA-256 mismatch: declared ${input.declaredChecksumSha256}, uploaded bytes hash to ${sha256}`,
        details: { declaredSha256: input.declaredChecksumSha256, actualSha256: sha256 },
      };
    }
    return { ok: true, sizeBytes: bytes, sha256 };
  };
}

// What S3 answers when the part list cannot make the object: the upload's fault, so a reason, not a retry.
const REFUSALS = new Set(['InvalidPart', 'InvalidPartOrder', 'EntityTooSmall', 'MalformedXML']);

/**
 * Joins the parts into the object (S3 takes seconds to minutes for a large one; beats keep the attempt alive). A
 * retried attempt finds the upload gone and the object there: nothing to do.
 */
async function assemble(
  store: ObjectStore,
  objectKey: string,
  { uploadId, parts }: MultipartAssembly,
): Promise<Extract<VerifyUploadResult, { ok: false }> | undefined> {
  try {
    await keepBeating(() => store.completeMultipartUpload(objectKey, uploadId, parts));
    return undefined;
  } catch (err) {
    const name = err instanceof S3ServiceException ? err.name : '';
    if (REFUSALS.has(name)) {
      return {
        ok: false,
        reason: `the upload's parts could not be assembled: ${name}: ${(err as Error).message}`,
        details: { uploadId, parts: parts.length },
      };
    }
    if (name === 'NoSuchUpload' && (await store.head(objectKey))) return undefined;
    if (name === 'NoSuchUpload') {
      return {
        ok: false,
        reason: `the multipart upload ${uploadId} is gone and no object was assembled`,
        details: { uploadId },
      };
    }
    throw err;
  }
}
