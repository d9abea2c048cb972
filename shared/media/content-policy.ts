import { fileTypeFromBuffer } from 'file-type';
import { ALLOWED_CONTENT_TYPES, familyOf, normaliseContentType, type MediaFamily } from '../media-types';

/** How many leading bytes sniffing reads; file-type needs at most this many. */
export const SNIFF_BYTES = 4100;

// file-type's names for the allowed formats, mapped onto the names this platform uses.
const CANONICAL: Record<string, string> = {
  'video/matroska': 'video/x-matroska',
  'audio/x-m4a': 'audio/mp4',
  'audio/x-flac': 'audio/flac',
  'audio/vnd.wave': 'audio/wav',
  'audio/x-wav': 'audio/wav',
  'audio/wave': 'audio/wav',
};

// Containers whose magic bytes cannot tell audio from video; the probe later decides which it is.
const EITHER_AUDIO_OR_VIDEO = new Set(['video/mp4', 'video/webm', 'video/x-matroska', 'audio/mp4']);

export type SniffVerdict =
  | { ok: true; mimeType: string; family: MediaFamily }
  | { ok: false; reason: string; detected: string | null };

function looksLikeSvg(head: Buffer): boolean {
  const text = head.toString('utf8', 0, Math.min(head.length, 1024)).trimStart().toLowerCase();
  return /^(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*(<!doctype svg[^>]*>\s*)?<svg[\s>]/.test(text);
}

/** Decides from the bytes alone; the declared type only has to agree on the family. */
export async function sniffContent(head: Buffer, declaredContentType: string): Promise<SniffVerdict> {
  const declared = normaliseContentType(declaredContentType);
  const declaredFamily = familyOf(declared);
  if (looksLikeSvg(head)) {
    return {
      ok: false,
      reason: 'detected image/svg+xml: SVG is not accepted because it can carry script',
      detected: 'image/svg+xml',
    };
  }
  const found = await fileTypeFromBuffer(head);
  if (!found) {
    return { ok: false, reason: 'the content type could not be recognised from the bytes', detected: null };
  }
  const mime = normaliseContentType(found.mime);
  const detected = CANONICAL[mime] ?? mime;
  const family = ALLOWED_CONTENT_TYPES[detected];
  if (!family) {
    return { ok: false, reason: `detected ${detected}, which is not an allowed type`, detected };
  }
  const compatible =
    family === declaredFamily ||
    (EITHER_AUDIO_OR_VIDEO.has(detected) && (declaredFamily === 'audio' || declaredFamily === 'video'));
  if (!compatible) {
    return {
      ok: false,
      reason: `detected ${detected} (${family}) but ${declared} (${declaredFamily ?? 'unknown'}) was declared`,
      detected,
    };
  }
  // An ambiguous container keeps the family the client declared until the probe looks inside.
  return {
    ok: true,
    mimeType: detected,
    family: EITHER_AUDIO_OR_VIDEO.has(detected) ? declaredFamily! : family,
  };
}
