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

/** The audio rendition group every variant of the ladder shares (audio is encoded once). */
export const AUDIO_GROUP = 'audio';
/** Its directory below hls/, beside the rungs'. */
export const AUDIO_RENDITION = 'audio';

/** #EXT-X-MEDIA entries of a master playlist. */
export function parseMasterMedia(text: string): Record<string, string>[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.startsWith('#EXT-X-MEDIA:'))
    .map((l) => parseAttributes(l.slice('#EXT-X-MEDIA:'.length)));
}

/** Peak (per segment, as RFC 8216 defines BANDWIDTH) and average bits per second of a media playlist. */
async function playlistRates(
  dir: string,
  name: string,
): Promise<{ peak: number; average: number; init?: string }> {
  const text = await fs.readFile(path.join(dir, name, 'index.m3u8'), 'utf8').catch(() => undefined);
  if (text === undefined) throw new MediaError(`HLS playlist ${name}/index.m3u8 was not written`);
  const media = parseMediaPlaylist(text);
  let peak = 0;
  let bytes = 0;
  let seconds = 0;
  for (const segment of media.segments) {
    const size = (await fs.stat(path.join(dir, name, segment.uri))).size;
    if (segment.durationSeconds > 0) peak = Math.max(peak, (size * 8) / segment.durationSeconds);
    bytes += size;
    seconds += segment.durationSeconds;
  }
  const average = seconds > 0 ? (bytes * 8) / seconds : 0;
  return {
    peak: Math.ceil(peak),
    average: Math.ceil(average),
    ...(media.map ? { init: path.join(dir, name, media.map) } : {}),
  };
}

/**
 * Writes the master playlist from the rungs' playlists and init segments: one #EXT-X-STREAM-INF per rung with
 * BANDWIDTH (peak segment rate, video plus audio), AVERAGE-BANDWIDTH, RESOLUTION and CODECS, and, when there is
 * sound, the shared audio rendition as #EXT-X-MEDIA TYPE=AUDIO that every variant names with AUDIO= (ffmpeg 5.1
 * would also list the audio playlist as a variant of its own, which players could pick as a video rung).
 */
export async function writeMasterPlaylist(
  masterPath: string,
  ladder: readonly Pick<Rung, 'name' | 'width' | 'height'>[],
  hasAudio: boolean,
): Promise<void> {
  const dir = path.dirname(masterPath);
  const audio = hasAudio ? await playlistRates(dir, AUDIO_RENDITION) : undefined;
  const lines = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-INDEPENDENT-SEGMENTS'];
  if (audio) {
    lines.push(
      `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="${AUDIO_GROUP}",NAME="default",DEFAULT=YES,AUTOSELECT=YES,` +
        `CHANNELS="2",URI="${AUDIO_RENDITION}/index.m3u8"`,
    );
  }
  for (const rung of ladder) {
    const uri = `${rung.name}/index.m3u8`;
    const rates = await playlistRates(dir, rung.name);
    const video = rates.init ? await avcCodecString(rates.init).catch(() => undefined) : undefined;
    if (!video) throw new MediaError(`no H.264 codec configuration in the init segment of ${uri}`);
    const codecs = [video, ...(audio ? [AAC_LC_CODEC] : [])].join(',');
    const attributes = [
      `BANDWIDTH=${rates.peak + (audio?.peak ?? 0)}`,
      `AVERAGE-BANDWIDTH=${rates.average + (audio?.average ?? 0)}`,
      `RESOLUTION=${rung.width}x${rung.height}`,
      `CODECS="${codecs}"`,
      ...(audio ? [`AUDIO="${AUDIO_GROUP}"`] : []),
    ];
    lines.push(`#EXT-X-STREAM-INF:${attributes.join(',')}`, uri);
  }
  await fs.writeFile(masterPath, lines.join('\n') + '\n');
}
