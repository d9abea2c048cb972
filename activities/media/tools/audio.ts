import fs from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { runFfmpeg } from './ffmpeg-run';
import { num, probeAv } from './probe';
import { MediaError, type AvInfo, type RenditionFile, type WorkControl } from './types';

export const AUDIO_FILE = 'audio.m4a';
export const WAVEFORM_FILE = 'waveform.png';
export const WAVEFORM_WIDTH = 1200;
export const WAVEFORM_HEIGHT = 200;
/** Share of the progress bar the encode takes; the waveform takes the rest. */
const ENCODE_SHARE = 95;

/**
 * AAC-LC stereo 48 kHz 128 kbps in MP4 (moov first) and a waveform picture of the first audio stream. Works for
 * video files too: only their audio is used.
 */
export async function transcodeAudio(
  src: string,
  outDir: string,
  info: AvInfo,
  control?: WorkControl,
): Promise<RenditionFile[]> {
  if (!info.audio) throw new MediaError('no audio stream to transcode', { container: info.container });
  await fs.mkdir(outDir, { recursive: true });

  const source = path.resolve(src);
  await runFfmpeg({
    src: source,
    cwd: outDir,
    durationSeconds: info.durationSeconds,
    what: 'audio transcode',
    control,
    progressRange: [0, ENCODE_SHARE],
    build: (command) => {
      command
        .output(AUDIO_FILE)
        .outputOptions(
          '-map',
          '0:a:0',
          '-c:a',
          'aac',
          '-b:a',
          '128k',
          '-ac',
          '2',
          '-ar',
          '48000',
          '-movflags',
          '+faststart',
        );
    },
  });
  // A run of its own: while showwavespic holds its one frame back until the end of the input, ffmpeg prints no
  // stats lines at all, so an encode sharing the run would report no progress. Decoding audio twice is cheap.
  await runFfmpeg({
    src: source,
    cwd: outDir,
    durationSeconds: info.durationSeconds,
    what: 'waveform drawing',
    control: control && { signal: control.signal, stallMs: control.stallMs },
    build: (command) => {
      command.complexFilter(
        `[0:a:0]aformat=channel_layouts=mono,` +
          `showwavespic=s=${WAVEFORM_WIDTH}x${WAVEFORM_HEIGHT}:colors=0x3b82f6:scale=sqrt[wave]`,
      );
      command.output(WAVEFORM_FILE).outputOptions('-map', '[wave]', '-frames:v', '1', '-update', '1');
    },
  });

  const audioPath = path.join(outDir, AUDIO_FILE);
  const wavePath = path.join(outDir, WAVEFORM_FILE);
  for (const file of [audioPath, wavePath]) {
    const stat = await fs.stat(file).catch(() => undefined);
    if (!stat || stat.size === 0) throw new MediaError(`ffmpeg finished but wrote no ${path.basename(file)}`);
  }
  const audio = await probeAv(audioPath);
  const wave = await sharp(wavePath).metadata();
  control?.onProgress?.(100);

  return [
    {
      name: 'audio',
      relativePath: AUDIO_FILE,
      mimeType: 'audio/mp4',
      ...((audio.audio?.bitRate ?? audio.bitRate) ? { bitRate: audio.audio?.bitRate ?? audio.bitRate } : {}),
      durationSeconds: audio.durationSeconds,
    },
    {
      name: 'waveform',
      relativePath: WAVEFORM_FILE,
      mimeType: 'image/png',
      width: num(wave.width) ?? WAVEFORM_WIDTH,
      height: num(wave.height) ?? WAVEFORM_HEIGHT,
    },
  ];
}
