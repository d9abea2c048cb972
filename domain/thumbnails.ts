/**
 * Thumbnails at a requested time (GET /media/{id}/thumbnail): cached as renditions of the blob named by the time
 * in milliseconds and the width, so the same request is later served from storage through the edge.
 */

export const THUMBNAIL_PREFIX = 'thumb-t';
export const DEFAULT_THUMBNAIL_WIDTH = 640;
export const MIN_THUMBNAIL_WIDTH = 32;
export const MAX_THUMBNAIL_WIDTH = 1920;

/** Milliseconds: finer times would only multiply cache entries of the same frame. */
export const thumbnailName = (timeSeconds: number, width: number) =>
  `${THUMBNAIL_PREFIX}${Math.round(timeSeconds * 1000)}-w${width}`;

export const isThumbnailName = (name: string) => /^thumb-t\d+-w\d+$/.test(name);

/** The object below the blob's published rendition prefix. */
export const thumbnailObjectPath = (name: string) => `thumbs/${name}.jpg`;
