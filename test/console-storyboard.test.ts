import { describe, expect, it } from 'vitest';
import { parseStoryboard } from '../console/src/components/storyboard';

/** The console's reading of the `storyboard` rendition (WebVTT cues `storyboard-<n>.jpg#xywh=x,y,w,h`). */
describe('console storyboard cues', () => {
  const vttUrl = 'https://edge.example/d/0b5e/storyboard.vtt?md5=abc&expires=99';

  it('reads times and sprite boxes, and signs each sprite with the VTT URL query', () => {
    const vtt = [
      'WEBVTT',
      '',
      '00:00:00.000 --> 00:00:02.000',
      'storyboard-0.jpg#xywh=0,0,160,90',
      '',
      '00:00:02.000 --> 00:01:04.500',
      'storyboard-1.jpg#xywh=160,90,160,90',
      '',
    ].join('\n');
    expect(parseStoryboard(vtt, vttUrl)).toEqual([
      {
        start: 0,
        end: 2,
        url: 'https://edge.example/d/0b5e/storyboard-0.jpg?md5=abc&expires=99',
        x: 0,
        y: 0,
        w: 160,
        h: 90,
      },
      {
        start: 2,
        end: 64.5,
        url: 'https://edge.example/d/0b5e/storyboard-1.jpg?md5=abc&expires=99',
        x: 160,
        y: 90,
        w: 160,
        h: 90,
      },
    ]);
  });

  it('skips cues without a usable box rather than showing a wrong frame', () => {
    const vtt =
      'WEBVTT\n\n00:00:00.000 --> 00:00:02.000\nstoryboard-0.jpg\n\n00:00:02.000 --> 00:00:04.000\nx.jpg#xywh=1,2,three,4\n';
    expect(parseStoryboard(vtt, vttUrl)).toEqual([]);
  });
});
