import fs from 'node:fs/promises';
import path from 'node:path';
import { runFfmpeg } from './ffmpeg-run';
import { planPreview, previewFilter, PREVIEW_FILE } from './preview';
import {
  planStoryboard,
  sheetName,
  storyboardFilter,
  storyboardVtt,
  STORYBOARD_VTT,
  type StoryboardPlan,
} from './storyboard';
import { MediaError, type AvInfo, type RenditionFile, type WorkControl } from './types';

/**
 * The storyboard (sprite sheets + WebVTT) and the animated WebP preview, from one ffmpeg run that decodes the
 * source once and splits the frames between the two.
 */
export async function renderVideoPreviews(
  src: string,
  outDir: string,
  info: AvInfo,
  control?: WorkControl,
): Promise<RenditionFile[]> {
  const video = info.video;
  if (!video) throw new MediaError('no video stream for previews', { container: info.container });
  const { displayWidth: w, displayHeight: h } = video;
  const board = planStoryboard(info.durationSeconds, w, h);
  const preview = planPreview(info.durationSeconds, w, h);

  await runFfmpeg({
    src: path.resolve(src),
    cwd: outDir,
    durationSeconds: info.durationSeconds,
    what: 'storyboard and preview',
    // Tiles 160 px wide and a 10 fps preview need neither every frame nor the deblocking: frames nothing refers to
    // (skipping them cannot damage another) and the loop filter are skipped, about half of an H.264 decode.
    inputOptions: ['-skip_frame', 'noref', '-skip_loop_filter', 'all'],
    control,
    build: (command) => {
      command.complexFilter(
        `[0:v:0]split=2[sb][pv];[sb]${storyboardFilter(board)}[sheets];[pv]${previewFilter(preview)}[anim]`,
      );
      command
        .output('storyboard-%d.jpg')
        .outputOptions('-map', '[sheets]', '-q:v', '4', '-start_number', '0', '-f', 'image2');
      command
        .output(PREVIEW_FILE)
        .outputOptions(
          '-map',
          '[anim]',
          '-an',
          '-c:v',
          'libwebp_anim',
          '-loop',
          '0',
          '-quality',
          '60',
          '-compression_level',
          '3',
        );
    },
  });

  // The fps filter may round the last tile away: cue only what the sheets hold.
  const sheets = await countSheets(outDir, board.sheets);
  if (sheets === 0) throw new MediaError('ffmpeg finished but wrote no storyboard sheet', {});
  const perSheet = board.columns * board.rows;
  const written: StoryboardPlan = { ...board, sheets, tiles: Math.min(board.tiles, sheets * perSheet) };
  await fs.writeFile(path.join(outDir, STORYBOARD_VTT), storyboardVtt(written, info.durationSeconds));
  const previewStat = await fs.stat(path.join(outDir, PREVIEW_FILE)).catch(() => undefined);
  if (!previewStat?.size) throw new MediaError('ffmpeg finished but wrote no animated preview', {});

  const files: RenditionFile[] = [
    {
      name: 'storyboard',
      relativePath: STORYBOARD_VTT,
      mimeType: 'text/vtt',
      width: board.tileWidth,
      height: board.tileHeight,
      durationSeconds: info.durationSeconds,
    },
  ];
  for (let n = 0; n < sheets; n++) {
    files.push({
      name: sheetName(n),
      relativePath: sheetName(n),
      mimeType: 'image/jpeg',
      width: board.columns * board.tileWidth,
      height: board.rows * board.tileHeight,
    });
  }
  files.push({
    name: 'preview',
    relativePath: PREVIEW_FILE,
    mimeType: 'image/webp',
    width: preview.width,
    height: preview.height,
    durationSeconds: preview.windows.reduce((sum, [a, b]) => sum + (b - a), 0),
  });
  return files;
}

async function countSheets(dir: string, planned: number): Promise<number> {
  let n = 0;
  // A sheet beyond the plan (an extra frame at the end) is left out of the cues and the renditions alike.
  while (n < planned && (await fs.stat(path.join(dir, sheetName(n))).catch(() => undefined))) n++;
  await fs.rm(path.join(dir, sheetName(planned)), { force: true });
  return n;
}
