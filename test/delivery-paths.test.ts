import { describe, expect, it } from 'vitest';
import { hlsContentType, parseAssetPath, renditionPath } from '../domain/delivery/asset-paths';
import { signPlaylist } from '../api/delivery/playlist-signing';
import { etagMatches, parseRange } from '../api/delivery/range';

describe('delivery paths', () => {
  it('maps the original, renditions and the HLS tree', () => {
    expect(parseAssetPath('original')).toEqual({ kind: 'original' });
    expect(parseAssetPath('r/thumb-256')).toEqual({ kind: 'rendition', name: 'thumb-256' });
    expect(parseAssetPath('hls/master.m3u8')).toEqual({ kind: 'hls', file: 'master.m3u8' });
    expect(parseAssetPath('hls/360p/seg-000.m4s')).toEqual({ kind: 'hls', file: '360p/seg-000.m4s' });
    expect(renditionPath('hls')).toBe('hls/master.m3u8');
    expect(renditionPath('poster')).toBe('r/poster');
    expect(hlsContentType('360p/index.m3u8')).toBe('application/vnd.apple.mpegurl');
    expect(hlsContentType('360p/seg-001.m4s')).toBe('video/iso.segment');
    expect(hlsContentType('360p/init_0.mp4')).toBe('video/mp4');
  });

  it.each([
    'hls/../original',
    'hls/360p/../../x',
    'hls/..',
    'hls/.hidden',
    'hls/a/b/c',
    'hls/%2e%2e/x',
    'r/hls',
    'r/a/b',
    'original/x',
    '',
    'r/',
    'hls//x',
    'hls/a\\b',
  ])('refuses %j', (path) => {
    expect(parseAssetPath(path)).toBeNull();
  });
});

describe('Range and If-None-Match', () => {
  it.each([
    ['bytes=0-99', { start: 0, end: 99 }],
    ['bytes=100-', { start: 100 }],
    ['bytes=-500', { suffix: 500 }],
    ['bytes=5-5', { start: 5, end: 5 }],
  ])('parses %s', (header, range) => expect(parseRange(header)).toEqual(range));

  it.each([undefined, '', 'bytes=9-1', 'bytes=0-1,5-6', 'items=0-1', 'bytes=-', 'bytes=-0', 'bytes=a-b'])(
    'serves whole for %j',
    (header) => expect(parseRange(header)).toBeUndefined(),
  );

  it('matches ETags weakly, in lists and with *', () => {
    expect(etagMatches('"abc"', '"abc"')).toBe(true);
    expect(etagMatches('W/"abc"', '"abc"')).toBe(true);
    expect(etagMatches('"x", "abc"', '"abc"')).toBe(true);
    expect(etagMatches('*', '"abc"')).toBe(true);
    expect(etagMatches('"abd"', '"abc"')).toBe(false);
    expect(etagMatches('"abc"', undefined)).toBe(false);
  });
});

describe('playlist signing', () => {
  const q = 'md5=tok&expires=123';

  it('puts the query on every relative URI of a master and a media playlist', () => {
    const master = [
      '#EXTM3U',
      '#EXT-X-VERSION:7',
      '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="en",URI="audio/index.m3u8"',
      '#EXT-X-STREAM-INF:BANDWIDTH=293700,RESOLUTION=320x240,CODECS="avc1.64000d,mp4a.40.2"',
      '360p/index.m3u8',
      '',
    ].join('\n');
    expect(signPlaylist(master, q)).toBe(
      [
        '#EXTM3U',
        '#EXT-X-VERSION:7',
        `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="en",URI="audio/index.m3u8?${q}"`,
        '#EXT-X-STREAM-INF:BANDWIDTH=293700,RESOLUTION=320x240,CODECS="avc1.64000d,mp4a.40.2"',
        `360p/index.m3u8?${q}`,
        '',
      ].join('\n'),
    );
    const media =
      '#EXTM3U\r\n#EXT-X-MAP:URI="init_0.mp4"\r\n#EXTINF:4.0,\r\nseg-000.m4s\r\n#EXT-X-ENDLIST\r\n';
    expect(signPlaylist(media, q)).toBe(
      `#EXTM3U\n#EXT-X-MAP:URI="init_0.mp4?${q}"\n#EXTINF:4.0,\nseg-000.m4s?${q}\n#EXT-X-ENDLIST\n`,
    );
  });

  it('leaves comments and absolute URIs alone and appends to an existing query', () => {
    const text = '# a comment with URI="x"\nhttps://cdn.example/seg.m4s\n//other.example/a.m4s\nseg.m4s?v=2';
    expect(signPlaylist(text, q)).toBe(
      `# a comment with URI="x"\nhttps://cdn.example/seg.m4s\n//other.example/a.m4s\nseg.m4s?v=2&${q}`,
    );
  });
});
