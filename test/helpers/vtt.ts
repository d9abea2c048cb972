/** A WebVTT thumbnail track as a player's thumbnail plugin reads it: cues of `<url>#xywh=x,y,w,h`. */
export interface ThumbnailCue {
  start: number;
  end: number;
  url: string;
  x: number;
  y: number;
  w: number;
  h: number;
}

const TIME = /^(?:(\d+):)?(\d{2}):(\d{2})\.(\d{3})$/;

function seconds(stamp: string): number {
  const m = TIME.exec(stamp.trim());
  if (!m) throw new Error(`not a WebVTT timestamp: ${stamp}`);
  return Number(m[1] ?? 0) * 3600 + Number(m[2]) * 60 + Number(m[3]) + Number(m[4]) / 1000;
}

/** Throws on anything a strict reader would refuse: no header, bad timing, a payload without #xywh. */
export function parseThumbnailVtt(text: string): ThumbnailCue[] {
  const blocks = text.replace(/\r\n/g, '\n').split(/\n{2,}/);
  if (!/^WEBVTT(?:[ \t].*)?$/.test(blocks[0]!.split('\n')[0]!)) throw new Error('missing WEBVTT header');
  const cues: ThumbnailCue[] = [];
  for (const block of blocks.slice(1)) {
    const lines = block.split('\n').filter((l) => l !== '');
    if (lines.length === 0) continue;
    const timing = lines.findIndex((l) => l.includes('-->'));
    if (timing < 0) throw new Error(`cue without timing: ${block}`);
    const [from, to] = lines[timing]!.split('-->').map((s) => s.trim().split(/\s+/)[0]!);
    const payload = lines[timing + 1];
    const m = payload && /^(\S+)#xywh=(\d+),(\d+),(\d+),(\d+)$/.exec(payload);
    if (!m) throw new Error(`cue payload is not <url>#xywh=x,y,w,h: ${payload}`);
    cues.push({
      start: seconds(from!),
      end: seconds(to!),
      url: m[1]!,
      x: Number(m[2]),
      y: Number(m[3]),
      w: Number(m[4]),
      h: Number(m[5]),
    });
  }
  return cues;
}
