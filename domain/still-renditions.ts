/**
 * The check of an image's or a page's renditions: sharp and poppler decode what they write as they write it, so all
 * that is left to check is that none came out empty. A fact of the outputs alone (no file is read), so the asset
 * workflow applies it itself (deterministic), and the validate activity applies the same rule to runs recorded
 * before it did.
 */
export interface StillCheck {
  ok: boolean;
  reason?: string;
  measurements: Record<string, number | string>;
}

/** Media kinds whose renditions are checked when rendered: validation only looks at their sizes. */
export const isStillKind = (kind: string): boolean => kind !== 'video' && kind !== 'audio';

export function checkStillRenditions(renditions: readonly { name: string; sizeBytes: number }[]): StillCheck {
  const empty = renditions.filter((r) => r.sizeBytes === 0).map((r) => r.name);
  return empty.length
    ? { ok: false, reason: `empty renditions: ${empty.join(', ')}`, measurements: {} }
    : { ok: true, measurements: { renditions: renditions.length } };
}
