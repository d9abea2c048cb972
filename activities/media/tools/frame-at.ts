import { roundEven } from './numbers';
import fs from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { runFfmpeg } from './ffmpeg-run';
import { MediaError, type WorkControl } from './types';

export interface FrameRequest {
  /** A local file or an http URL that answers byte ranges (ffmpeg seeks in it instead of reading it all). */
  input: string;
  /** Working directory; `file` is written inside it. */
  dir: string;
  file: string;
  timeSeconds: number;
  width: number;
  /** The source's displayed size, so the height keeps its shape. */
  displayWidth: number;
  displayHeight: number;
}

/**
 * One JPEG frame at a time: `-ss` before the input seeks to the keyframe before it through the index (a few ranged
 * reads of the file), and ffmpeg then decodes up to the exact time. At the very end there may be no frame at
 * `time`; the last frame is taken instead.
 */
export async function frameAt(
  req: FrameRequest,
  control?: WorkControl,
): Promise<{ width: number; height: number }> {
  const width = roundEven(Math.min(req.width, req.displayWidth));
  const height = roundEven((width * req.displayHeight) / Math.max(1, req.displayWidth));
  const out = path.join(req.dir, req.file);
  const grab = (inputOptions: string[], limit: string[], what: string) =>
    runFfmpeg({
      src: req.input,
      cwd: req.dir,
      inputOptions,
      durationSeconds: 0,
      what,
      control,
      build: (command) => {
        command
          .output(req.file)
          .outputOptions(
            '-map',
            '0:v:0',
            '-vf',
            `scale=${width}:${height},setsar=1`,
            '-q:v',
            '3',
            '-update',
            '1',
            '-an',
            ...limit,
          );
      },
    });
  await grab(['-ss', req.timeSeconds.toFixed(3)], ['-frames:v', '1'], 'frame extraction');
  if (!(await fs.stat(out).catch(() => undefined))?.size) {
    // Every frame of the last second over the same file: the last one stays.
    await grab(['-sseof', '-1'], [], 'last frame extraction');
  }
  const meta = await sharp(out)
    .metadata()
    .catch(() => undefined);
  if (!meta?.width) throw new MediaError(`no frame could be read at ${req.timeSeconds} s`, {});
  return { width: meta.width, height: meta.height };
}
