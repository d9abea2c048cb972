/**
 * The content types the platform accepts, by family. Issue 3's sniffing compares the detected type's family
 * with the declared one, so the families live beside the list.
 */
export type MediaFamily = 'image' | 'video' | 'audio' | 'document';

export const ALLOWED_CONTENT_TYPES: Readonly<Record<string, MediaFamily>> = {
  'image/jpeg': 'image',
  'image/png': 'image',
  'image/webp': 'image',
  'image/gif': 'image',
  'image/avif': 'image',
  'image/tiff': 'image',
  'image/heic': 'image',
  'image/heif': 'image',
  'video/mp4': 'video',
  'video/quicktime': 'video',
  'video/webm': 'video',
  'video/x-matroska': 'video',
  'audio/mpeg': 'audio',
  'audio/mp4': 'audio',
  'audio/aac': 'audio',
  'audio/x-m4a': 'audio',
  'audio/wav': 'audio',
  'audio/x-wav': 'audio',
  'audio/flac': 'audio',
  'audio/ogg': 'audio',
  'audio/opus': 'audio',
  'application/pdf': 'document',
};

/** Lower-cases and drops parameters: "Image/JPEG; charset=x" is image/jpeg. */
export function normaliseContentType(value: string): string {
  return value.split(';')[0]!.trim().toLowerCase();
}

export function familyOf(contentType: string): MediaFamily | undefined {
  return ALLOWED_CONTENT_TYPES[normaliseContentType(contentType)];
}
