import type { ObjectStore } from '../infra/adapters/object-store';

/** S3's limits: at most 10,000 parts, each at least 5 MiB (but the last) and at most 5 GiB. */
export const MAX_PARTS = 10_000;
const MIN_PART = 5 * 1024 ** 2;
const MIB = 1024 ** 2;

/** The preferred part size, raised (in whole MiB) when the object would otherwise need more than 10,000 parts. */
export function partSizeFor(sizeBytes: number, preferred: number): number {
  const needed = Math.ceil(sizeBytes / MAX_PARTS / MIB) * MIB;
  return Math.max(MIN_PART, preferred, needed);
}

export const partCount = (sizeBytes: number, partBytes: number) =>
  Math.max(1, Math.ceil(sizeBytes / partBytes));

/** The most parts an upload of this deployment can have: that of the largest upload allowed. */
export const maxPartsFor = (maxUploadBytes: number, preferredPartBytes: number) =>
  partCount(maxUploadBytes, partSizeFor(maxUploadBytes, preferredPartBytes));

export async function presignParts(
  store: ObjectStore,
  key: string,
  uploadId: string,
  partNumbers: number[],
  expiresInSeconds: number,
): Promise<{ partNumber: number; url: string }[]> {
  return Promise.all(
    partNumbers.map(async (partNumber) => ({
      partNumber,
      url: await store.presignUploadPart(key, uploadId, partNumber, expiresInSeconds),
    })),
  );
}
