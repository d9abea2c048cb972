import { ApplicationFailure } from '@temporalio/activity';
import { ClamdReplyError } from '../infra/adapters/clamd-protocol';
import { MEDIA_FAILURE, SCANNER_LOST } from '../workflows/definitions';
import type { BlobRepository } from '../infra/adapters/blob-repository';
import type { ObjectStore } from '../infra/adapters/object-store';
import { ScannerLostError, type Scanner, type ScanVerdict } from '../infra/adapters/scanner';
import type { IntegrityRepository } from '../infra/adapters/integrity-repository';
import { CHUNK_BYTES, ChunkHasher } from './hashing/hash';
import { quarantineKey } from '../domain/object-keys';
import type { Slots } from './slots';
import type { ScanExclusion } from '../infra/adapters/scan-exclusion';
import { keepBeating } from './heartbeat';

/**
 * Streams the blob from storage through the scanner. An unreachable scanner throws, so Temporal retries: nothing is
 * ever marked clean without a scan. Infected bytes move under quarantine/ and are never served. The same read
 * yields the blob's chunk manifest, which integrity scans use to name damaged byte ranges.
 */
export function scanBlobActivity(deps: {
  store: ObjectStore;
  blobs: BlobRepository;
  scanner: Scanner;
  integrity: IntegrityRepository;
  /**
   * Scans at once (SCAN_CONCURRENCY): clamd would run up to its MaxThreads together, each slower for the others,
   * on the cores the media work needs. Taken before the blob is opened, so no download waits half-read.
   */
  scanSlots?: Slots;
  /**
   * The same across workers (infra/adapters/scan-exclusion.ts): taken after the slots, so a worker holds at most its
   * slots' worth of connections for it.
   */
  scanExclusion?: ScanExclusion | undefined;
}) {
  return async function scanBlob(input: {
    sha256: string;
    blobKey: string;
    /** Times the scanner went away on this input before (workflows/stage-guard.ts): it is then scanned alone. */
    lostBefore?: number;
  }): Promise<ScanVerdict> {
    const manifest = new ChunkHasher(CHUNK_BYTES);
    let release = () => {};
    let tapped: ReturnType<ChunkHasher['tap']> | undefined;
    let verdict: ScanVerdict;
    try {
      verdict = await keepBeating(async ({ signal }) => {
        // Waiting for a slot beats too; a cancelled activity stops waiting.
        // A suspect takes every slot: if the scanner goes away again, no other input shares the blame.
        if (deps.scanSlots) {
          const slots = input.lostBefore ? deps.scanSlots.size : 1;
          release = await deps.scanSlots.acquire(signal, slots);
        }
        const scan = async () => {
          const body = await deps.store.read(input.blobKey);
          tapped = body.pipe(manifest.tap());
          try {
            return await deps.scanner.scan(tapped, { signal });
          } finally {
            body.destroy();
          }
        };
        return deps.scanExclusion
          ? deps.scanExclusion.during(input.lostBefore ? 'exclusive' : 'shared', scan)
          : scan();
      });
    } catch (err) {
      // Too large for the scanner is final until an operator raises the limit; it is never "clean".
      if (err instanceof ClamdReplyError && err.sizeLimitExceeded) {
        throw ApplicationFailure.create({ message: err.message, type: MEDIA_FAILURE, nonRetryable: true });
      }
      // Retryable, but a type of its own: the workflow counts these per input, as lost attempts.
      if (err instanceof ScannerLostError) {
        throw ApplicationFailure.create({ message: err.message, type: SCANNER_LOST, cause: err });
      }
      throw err;
    } finally {
      release();
    }
    if (verdict.verdict !== 'infected') {
      // Without a scanner (or one that stopped reading early) the manifest takes a read of its own.
      const chunks = tapped!.done
        ? manifest.finish()
        : await ChunkHasher.ofStream(await deps.store.read(input.blobKey), CHUNK_BYTES);
      await deps.integrity.saveManifest(input.sha256, chunks);
      await deps.integrity.adoptManifest(input.sha256);
    }
    if (verdict.verdict === 'infected') {
      const target = quarantineKey(input.sha256);
      await deps.store.copy(input.blobKey, target);
      await deps.store.delete(input.blobKey);
      await deps.blobs.setScan(input.sha256, 'infected', verdict.signature);
      await deps.blobs.setStatus(input.sha256, 'quarantined', `virus found: ${verdict.signature}`, {
        objectKey: target,
      });
    } else {
      await deps.blobs.setScan(input.sha256, verdict.verdict, null);
    }
    return verdict;
  };
}
