import { fileTypeFromTokenizer } from 'file-type';
import type { ITokenizer } from 'strtok3';
import { ReadBudgetExceededError, type ReadBudget } from '../../../infra/adapters/object-tokenizer';
import {
  ALLOWED_CONTENT_TYPES,
  familyOf,
  normaliseContentType,
  type MediaFamily,
} from '../../../domain/media-types';

/**
 * What sniffing may read of an upload. A real file needs one or two blocks (the head; a TIFF's IFD at the end, or
 * what follows an ID3 tag); a crafted one that keeps sending the parser elsewhere is refused at the cap.
 */
export const SNIFF_BUDGET: ReadBudget = { blockBytes: 64 * 1024, maxReads: 16, maxBytes: 1024 * 1024 };

/** How much of the head the SVG check looks at. */
const SVG_HEAD_BYTES = 1024;

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
  const text = head.toString('utf8').trimStart().toLowerCase();
  return /^(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*(<!doctype svg[^>]*>\s*)?<svg[\s>]/.test(text);
}

/**
 * Decides from the bytes alone, reading them through the tokenizer where the parser looks (which it closes); the
 * declared type only has to agree on the family.
 */
export async function sniffContent(
  tokenizer: ITokenizer,
  declaredContentType: string,
): Promise<SniffVerdict> {
  const declared = normaliseContentType(declaredContentType);
  const declaredFamily = familyOf(declared);
  const head = new Uint8Array(SVG_HEAD_BYTES);
  const headLength = await tokenizer.peekBuffer(head, { position: 0, mayBeLess: true });
  if (looksLikeSvg(Buffer.from(head.buffer, 0, headLength))) {
    await tokenizer.close();
    return {
      ok: false,
      reason: 'detected image/svg+xml: SVG is not accepted because it can carry script',
      detected: 'image/svg+xml',
    };
  }
  let found;
  try {
    found = await fileTypeFromTokenizer(tokenizer);
  } catch (err) {
    if (!(err instanceof ReadBudgetExceededError)) throw err;
    return { ok: false, reason: `the content type could not be recognised: ${err.message}`, detected: null };
  }
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
