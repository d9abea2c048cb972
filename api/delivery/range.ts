import type { ByteRange } from '../../infra/adapters/object-store';

/**
 * One `Range: bytes=...` spec. Anything else (absent, malformed, another unit, several ranges) is undefined and the
 * whole object is sent, which RFC 9110 (14.2) allows; multipart/byteranges answers are not worth their cost here.
 */
export function parseRange(header: string | undefined): ByteRange | undefined {
  const m = header === undefined ? null : /^bytes=(\d{0,15})-(\d{0,15})$/.exec(header.trim());
  if (!m) return undefined;
  const [, first = '', last = ''] = m;
  if (first === '') {
    // bytes=-0 asks for no bytes at all: ignored rather than answered 416, as the RFC permits.
    return last === '' || Number(last) === 0 ? undefined : { suffix: Number(last) };
  }
  const start = Number(first);
  if (last === '') return { start };
  const end = Number(last);
  return end < start ? undefined : { start, end };
}

/** If-None-Match against an ETag: `*`, or any listed tag, compared weakly as RFC 9110 13.1.2 requires. */
export function etagMatches(ifNoneMatch: string, etag: string | undefined): boolean {
  if (ifNoneMatch.trim() === '*') return true;
  if (!etag) return false;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  return ifNoneMatch.split(',').some((tag) => opaque(tag) === opaque(etag));
}
