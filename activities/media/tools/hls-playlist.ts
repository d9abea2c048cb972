import fs from 'node:fs/promises';
import path from 'node:path';
import type { Rung } from './ladder';
import { MediaError } from './types';

/** One #EXT-X-STREAM-INF entry of a master playlist. */
export interface MasterVariant {
  uri: string;
  attributes: Record<string, string>;
}

export interface MediaPlaylist {
  /** URI of the fMP4 init segment (#EXT-X-MAP) */
  map?: string;
  segments: { uri: string; durationSeconds: number }[];
  ended: boolean;
}

/** Attribute list per RFC 8216 4.2: KEY=value,KEY="quoted, with commas" */
export function parseAttributes(list: string): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const m of list.matchAll(/([A-Z0-9-]+)=("[^"]*"|[^,]*)/g)) {
    const key = m[1]!;
    const raw = m[2]!;
    attributes[key] = raw.startsWith('"') ? raw.slice(1, -1) : raw;
  }
  return attributes;
}

export function parseMaster(text: string): MasterVariant[] {
  const variants: MasterVariant[] = [];
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line.startsWith('#EXT-X-STREAM-INF:')) continue;
    const attributes = parseAttributes(line.slice('#EXT-X-STREAM-INF:'.length));
    let j = i + 1;
    while (j < lines.length && (lines[j] === '' || lines[j]!.startsWith('#'))) j++;
    const uri = lines[j];
    if (uri) variants.push({ uri, attributes });
    i = j;
  }
  return variants;
}

export function parseMediaPlaylist(text: string): MediaPlaylist {
  const playlist: MediaPlaylist = { segments: [], ended: false };
  let pending: number | undefined;
  for (const line of text.split(/\r?\n/).map((l) => l.trim())) {
    if (line.startsWith('#EXT-X-MAP:')) {
      playlist.map = parseAttributes(line.slice('#EXT-X-MAP:'.length)).URI;
    } else if (line.startsWith('#EXTINF:')) {
      pending = Number.parseFloat(line.slice('#EXTINF:'.length));
    } else if (line === '#EXT-X-ENDLIST') {
      playlist.ended = true;
    } else if (line && !line.startsWith('#') && pending !== undefined) {
      playlist.segments.push({ uri: line, durationSeconds: pending });
      pending = undefined;
    }
  }
  return playlist;
}

/**
 * RFC 6381 codec string of the H.264 stream in an fMP4 init segment, read from its avcC box
 * (profile_idc, constraint flags, level_idc), e.g. 'avc1.64001f'.
 */
export async function avcCodecString(initSegment: string): Promise<string | undefined> {
  const bytes = await fs.readFile(initSegment);
  const at = bytes.indexOf('avcC', 0, 'latin1');
  if (at < 0 || at + 8 > bytes.length) return undefined;
  // box type, then configurationVersion, AVCProfileIndication, profile_compatibility, AVCLevelIndication
  const hex = (n: number) => bytes[n]!.toString(16).padStart(2, '0');
  return `avc1.${hex(at + 5)}${hex(at + 6)}${hex(at + 7)}`;
}

/** ffmpeg's AAC encoder writes AAC-LC. */
export const AAC_LC_CODEC = 'mp4a.40.2';

/**
 * Makes sure every #EXT-X-STREAM-INF carries BANDWIDTH, RESOLUTION and CODECS. ffmpeg 5.1 writes all three for
 * fMP4 H.264/AAC, but leaves CODECS out when it cannot parse the codec's extradata; then the master is written
 * again from the ladder and the init segments. Returns true when it rewrote the file.
 */
export async function ensureMasterAttributes(
  masterPath: string,
  ladder: readonly Rung[],
  hasAudio: boolean,
): Promise<boolean> {
  const text = await fs.readFile(masterPath, 'utf8');
  const variants = parseMaster(text);
  const complete =
    variants.length === ladder.length &&
    variants.every((v) => v.attributes.BANDWIDTH && v.attributes.RESOLUTION && v.attributes.CODECS);
  if (complete) return false;

  const dir = path.dirname(masterPath);
  const lines = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-INDEPENDENT-SEGMENTS'];
  for (const rung of ladder) {
    const uri = `${rung.name}/index.m3u8`;
    const text = await fs.readFile(path.join(dir, uri), 'utf8').catch(() => undefined);
    if (text === undefined) throw new MediaError(`HLS variant playlist ${uri} was not written`);
    const media = parseMediaPlaylist(text);
    const init = media.map ? path.join(dir, rung.name, media.map) : undefined;
    const video = init ? await avcCodecString(init).catch(() => undefined) : undefined;
    if (!video) throw new MediaError(`no H.264 codec configuration in the init segment of ${uri}`);
    const codecs = [video, ...(hasAudio ? [AAC_LC_CODEC] : [])].join(',');
    const bandwidth = (rung.maxrateKbps + (hasAudio ? rung.audioBitrateKbps : 0)) * 1000;
    lines.push(
      `#EXT-X-STREAM-INF:BANDWIDTH=${bandwidth},RESOLUTION=${rung.width}x${rung.height},CODECS="${codecs}"`,
      uri,
    );
  }
  await fs.writeFile(masterPath, lines.join('\n') + '\n');
  return true;
}
