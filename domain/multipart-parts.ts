/** S3's smallest part, except the last one. */
export const MIN_PART_BYTES = 5 * 1024 ** 2;

export interface ListedPart {
  partNumber: number;
  etag: string;
}

export interface StoredPart extends ListedPart {
  sizeBytes: number;
}

const bare = (etag: string) => etag.replace(/^"|"$/g, '').toLowerCase();

/**
 * Why S3 would refuse to assemble `listed` (ascending, no repeats) from `stored`, in S3's own terms (InvalidPart,
 * EntityTooSmall), or null when it would not. Checked before the answer, so the client can still fix its list: the
 * assembly itself runs later, in the asset's workflow.
 */
export function partsMisfit(listed: readonly ListedPart[], stored: readonly StoredPart[]): string | null {
  if (listed.length === 0) return 'parts lists no part';
  const byNumber = new Map(stored.map((p) => [p.partNumber, p]));
  for (const [i, part] of listed.entries()) {
    const held = byNumber.get(part.partNumber);
    if (!held) return `InvalidPart: part ${part.partNumber} is not stored`;
    if (bare(held.etag) !== bare(part.etag)) {
      return `InvalidPart: part ${part.partNumber} has ETag ${held.etag}, not ${part.etag}`;
    }
    if (i < listed.length - 1 && held.sizeBytes < MIN_PART_BYTES) {
      return `EntityTooSmall: part ${part.partNumber} holds ${held.sizeBytes} bytes; every part but the last needs ${MIN_PART_BYTES}`;
    }
  }
  return null;
}
