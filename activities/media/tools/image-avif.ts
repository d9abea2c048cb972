/**
 * AVIF beside the WebP thumbnails, kept only where it is smaller: browsers that take AVIF then get fewer bytes, and
 * a picture where AVIF loses (flat graphics, tiny sizes) gets no second file. The rendition's presence records the
 * decision (`thumb-256-avif` exists or not); its size sits beside the WebP's in the rendition list.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Sharp } from 'sharp';
import type { RenditionFile } from './types';

/** Quality comparable to the WebP's 80; effort 0 (libaom's fastest speed) keeps a 1024 px encode near 0.15 s. */
export const AVIF_OPTIONS = { quality: 50, effort: 0, chromaSubsampling: '4:2:0' } as const;

export const avifName = (webpName: string) => `${webpName}-avif`;

export interface EncodedWebp {
  name: string;
  longestSide: number;
  bytes: number;
}

/** Encodes each WebP's size as AVIF and writes those that came out smaller. */
export async function avifWhereSmaller(
  decoded: () => Sharp,
  webps: readonly EncodedWebp[],
  outDir: string,
): Promise<RenditionFile[]> {
  const kept: RenditionFile[] = [];
  for (const webp of webps) {
    const { data, info } = await decoded()
      .resize(webp.longestSide, webp.longestSide, { fit: 'inside', withoutEnlargement: true })
      .avif(AVIF_OPTIONS)
      .toBuffer({ resolveWithObject: true });
    if (data.length >= webp.bytes) continue;
    const relativePath = `${webp.name}.avif`;
    await writeFile(path.join(outDir, relativePath), data);
    kept.push({
      name: avifName(webp.name),
      relativePath,
      mimeType: 'image/avif',
      width: info.width,
      height: info.height,
    });
  }
  return kept;
}
