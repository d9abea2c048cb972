/** A storyboard cue: the sprite that shows [start, end) and where in it (WebVTT `file.jpg#xywh=x,y,w,h`). */
export interface StoryboardCue {
  start: number;
  end: number;
  url: string;
  x: number;
  y: number;
  w: number;
  h: number;
}

const seconds = (t: string) => t.split(':').reduce((acc, part) => acc * 60 + Number(part), 0);

/**
 * The cues of the `storyboard` rendition. Sprite paths are relative to the VTT; the VTT's signed query goes on
 * each (a delivery token covers the asset's whole prefix, as for HLS segments).
 */
export function parseStoryboard(vtt: string, vttUrl: string): StoryboardCue[] {
  const base = new URL(vttUrl);
  const cues: StoryboardCue[] = [];
  const lines = vtt.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const timing = /^([\d:.]+)\s+-->\s+([\d:.]+)/.exec(lines[i]!);
    const target = lines[i + 1]?.trim();
    if (!timing || !target) continue;
    const [path, frag] = target.split('#xywh=');
    const box = frag?.split(',').map(Number);
    if (!path || !box || box.length !== 4 || box.some((n) => !Number.isFinite(n))) continue;
    const url = new URL(path, base);
    if (!url.search) url.search = base.search;
    cues.push({
      start: seconds(timing[1]!),
      end: seconds(timing[2]!),
      url: url.toString(),
      x: box[0]!,
      y: box[1]!,
      w: box[2]!,
      h: box[3]!,
    });
  }
  return cues;
}
