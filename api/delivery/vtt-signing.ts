import { withQuery } from './playlist-signing';

/**
 * A storyboard's WebVTT names its sprite sheets relative to itself (`storyboard-0.jpg#xywh=…`), and a player
 * resolves them against the VTT's URL without its query: signed delivery would lose the token. Each cue's payload
 * that is a bare relative URL gets the same query (before the `#xywh` fragment); text cues, timings, notes and
 * absolute URLs are left alone.
 */
export function signVtt(text: string, query: string): string {
  const lines = text.split(/\r?\n/);
  let inCue = false;
  return lines
    .map((line) => {
      if (line.trim() === '') {
        inCue = false;
        return line;
      }
      if (line.includes('-->')) {
        inCue = true;
        return line;
      }
      return inCue && /^\S+$/.test(line.trim()) ? withQuery(line.trim(), query) : line;
    })
    .join('\n');
}
