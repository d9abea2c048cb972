/**
 * The paths below an asset's delivery prefix (`/d/<assetId>/` signed, `/p/<assetId>/` public):
 *
 *   original                 the uploaded bytes (of the content-addressed blob)
 *   r/<rendition>            one published rendition (thumb-256, poster, mp4, audio, waveform, page-1, ...)
 *   hls/master.m3u8          the HLS tree, below the blob's rendition prefix: hls/<rung>/index.m3u8,
 *   hls/<rung>/<file>        hls/<rung>/init*.mp4, hls/<rung>/seg-NNN.m4s
 */
export type AssetPath =
  | { kind: 'original' }
  | { kind: 'rendition'; name: string }
  /** `file` is relative to the tree's `hls/` directory, e.g. `360p/seg-000.m4s`. */
  | { kind: 'hls'; file: string };

export const HLS_MASTER_PATH = 'hls/master.m3u8';

/** The HLS ladder is one rendition row (`hls`, the master playlist) but is delivered as a tree. */
export const renditionPath = (name: string) => (name === 'hls' ? HLS_MASTER_PATH : `r/${name}`);

// No leading dot (so no `.`, `..` or hidden names), no `%`, no separators: nothing can leave the asset's prefix.
const SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;

/** null for anything that is not one of the shapes above. */
export function parseAssetPath(path: string): AssetPath | null {
  const segments = path.split('/');
  if (!segments.every((s) => SEGMENT.test(s))) return null;
  const [head, ...rest] = segments;
  if (head === 'original' && rest.length === 0) return { kind: 'original' };
  if (head === 'r' && rest.length === 1 && rest[0] !== 'hls') return { kind: 'rendition', name: rest[0]! };
  if (head === 'hls' && (rest.length === 1 || rest.length === 2))
    return { kind: 'hls', file: rest.join('/') };
  return null;
}

const HLS_TYPES: Record<string, string> = {
  m3u8: 'application/vnd.apple.mpegurl',
  m4s: 'video/iso.segment',
  mp4: 'video/mp4',
  m4a: 'audio/mp4',
  aac: 'audio/aac',
  ts: 'video/mp2t',
  vtt: 'text/vtt',
};

export const hlsContentType = (file: string) =>
  HLS_TYPES[file.slice(file.lastIndexOf('.') + 1).toLowerCase()] ?? 'application/octet-stream';

export const isPlaylist = (file: string) => file.toLowerCase().endsWith('.m3u8');
