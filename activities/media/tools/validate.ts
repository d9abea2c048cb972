import { round } from './numbers';
import fs from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { sampleWindows } from './complexity-probe';
import { AUDIO_GROUP, parseMaster, parseMasterMedia } from './hls-playlist';
import { planLadder, progressiveRung, type Rung } from './ladder';
import { SEGMENT_SECONDS } from './ladder-encode';
import { isAbortError } from './ffmpeg-run';
import { probeAv } from './probe';
import { measureRungQuality, SSIM_THRESHOLD } from './rung-quality';
import {
  MediaStalled,
  type AvInfo,
  type RenditionFile,
  type ValidationReport,
  type WorkControl,
} from './types';

export interface VideoValidationOptions {
  /** Lowest acceptable SSIM (0-1) of every rung against the source scaled to the rung's size. */
  ssimThreshold?: number;
  /** Lowest acceptable PSNR (dB) of every rung, likewise. */
  psnrThreshold?: number;
  /** Allowed difference between a rendition's duration and the source's. */
  durationToleranceSeconds?: number;
  /**
   * Cancellation and the stall watchdog for the SSIM/PSNR run, the one long decode here (the source and every rung
   * again): a hung ffmpeg is killed and reported as MediaStalled, as in rendering.
   */
  control?: WorkControl;
}

const DEFAULTS: Required<Omit<VideoValidationOptions, 'control'>> = {
  ssimThreshold: SSIM_THRESHOLD,
  psnrThreshold: 25,
  durationToleranceSeconds: 0.5,
};

/** Collects problems and numbers; a report is ok when nothing was out of bounds. */
class Checks {
  readonly problems: string[] = [];
  readonly measurements: Record<string, number | string> = {};

  constructor(
    private readonly source: AvInfo,
    private readonly tolerance: number,
  ) {}

  fail(problem: string): void {
    this.problems.push(problem);
  }

  duration(label: string, seconds: number): void {
    this.measurements[`${label}.durationSeconds`] = round(seconds, 3);
    const diff = Math.abs(seconds - this.source.durationSeconds);
    if (diff > this.tolerance) {
      this.fail(
        `${label} duration ${seconds.toFixed(2)} s differs from source ` +
          `${this.source.durationSeconds.toFixed(2)} s by more than ${this.tolerance} s`,
      );
    }
  }

  report(): ValidationReport {
    return this.problems.length === 0
      ? { ok: true, measurements: this.measurements }
      : { ok: false, reason: this.problems.join('; '), measurements: this.measurements };
  }
}

/**
 * Checks a transcodeVideo output against its source: every variant of the master playlist exists and ffprobe reads
 * it, durations match, each rung has its planned size and H.264 (+ AAC when the source has audio), the MP4 likewise,
 * the poster decodes, and the top rung looks like the source (SSIM).
 */
export async function validateVideo(
  src: string,
  outDir: string,
  info: AvInfo,
  renditions: readonly RenditionFile[],
  options: VideoValidationOptions = {},
): Promise<ValidationReport> {
  const opts = { ...DEFAULTS, ...options };
  const checks = new Checks(info, opts.durationToleranceSeconds);
  if (!info.video) {
    checks.fail('source has no video stream');
    return checks.report();
  }
  // The per-title ladder keeps planLadder's sizes but may drop rungs below the top one.
  const sizes = planLadder(info.video);
  const wantAudio = info.audio !== undefined;

  const { readable, ladder } = await checkHls(outDir, renditions, sizes, wantAudio, checks);

  const mp4 = renditions.find((r) => r.name === 'mp4');
  if (!mp4) checks.fail('no mp4 rendition');
  else if (ladder.length > 0)
    await checkVideoFile(
      path.join(outDir, mp4.relativePath),
      'mp4',
      progressiveRung(ladder),
      wantAudio,
      checks,
    );

  const poster = renditions.find((r) => r.name === 'poster');
  if (!poster) checks.fail('no poster rendition');
  else await checkImage(path.join(outDir, poster.relativePath), 'poster', checks);

  const measured = ladder.filter((r) => readable.has(r.name));
  const hls = renditions.find((r) => r.name === 'hls');
  if (measured.length > 0 && hls) {
    const windows = sampleWindows(info.durationSeconds, SEGMENT_SECONDS);
    try {
      const hlsDir = path.dirname(path.join(outDir, hls.relativePath));
      const quality = await measureRungQuality(src, hlsDir, measured, windows, opts.control);
      for (const rung of measured) {
        const { ssim, psnr } = quality.get(rung.name)!;
        checks.measurements[`hls/${rung.name}.ssim`] = round(ssim, 4);
        checks.measurements[`hls/${rung.name}.psnr`] = round(psnr, 2);
        if (ssim < opts.ssimThreshold)
          checks.fail(
            `hls/${rung.name} SSIM ${ssim.toFixed(4)} against the source is below ${opts.ssimThreshold}`,
          );
        if (psnr < opts.psnrThreshold)
          checks.fail(
            `hls/${rung.name} PSNR ${psnr.toFixed(2)} dB against the source is below ${opts.psnrThreshold}`,
          );
      }
      const top = measured[measured.length - 1]!;
      checks.measurements['ssim.top'] = checks.measurements[`hls/${top.name}.ssim`]!;
      checks.measurements['quality.windows'] = windows
        .map((w) => `${w.startSeconds}+${w.seconds}s`)
        .join(' ');
    } catch (err) {
      // Stopped (cancelled, or stalled and killed) is not a verdict on the renditions: the attempt ends, not the check.
      if (err instanceof MediaStalled || isAbortError(err)) throw err;
      checks.fail(`SSIM/PSNR could not be measured: ${message(err)}`);
    }
  }
  return checks.report();
}

/** Checks an transcodeAudio output: the m4a lasts as long as the source, is AAC and stereo; the waveform decodes. */
export async function validateAudio(
  _src: string,
  outDir: string,
  info: AvInfo,
  renditions: readonly RenditionFile[],
  options: Pick<VideoValidationOptions, 'durationToleranceSeconds'> = {},
): Promise<ValidationReport> {
  const checks = new Checks(info, options.durationToleranceSeconds ?? DEFAULTS.durationToleranceSeconds);
  const audio = renditions.find((r) => r.name === 'audio');
  if (!audio) {
    checks.fail('no audio rendition');
  } else {
    const file = path.join(outDir, audio.relativePath);
    const probed = await probeAv(file).catch((err: unknown) => {
      checks.fail(`audio ${audio.relativePath} is not readable by ffprobe: ${message(err)}`);
      return undefined;
    });
    if (probed) {
      checks.duration('audio', probed.durationSeconds);
      const codec = probed.audio?.codec ?? 'none';
      const channels = probed.audio?.channels ?? 0;
      checks.measurements['audio.codec'] = codec;
      checks.measurements['audio.channels'] = channels;
      if (probed.audio?.sampleRate) checks.measurements['audio.sampleRate'] = probed.audio.sampleRate;
      if (codec !== 'aac') checks.fail(`audio codec is ${codec}, expected aac`);
      if (channels !== 2) checks.fail(`audio has ${channels} channels, expected 2`);
    }
  }
  const waveform = renditions.find((r) => r.name === 'waveform');
  if (!waveform) checks.fail('no waveform rendition');
  else await checkImage(path.join(outDir, waveform.relativePath), 'waveform', checks);
  return checks.report();
}

/**
 * Returns the variant playlists ffprobe could read, by rung name, and the rungs the master lists (in ladder
 * order). Rungs are video only; the sound is the master's audio group, which every variant must name.
 */
async function checkHls(
  outDir: string,
  renditions: readonly RenditionFile[],
  sizes: readonly Rung[],
  wantAudio: boolean,
  checks: Checks,
): Promise<{ readable: Map<string, string>; ladder: Rung[] }> {
  const readable = new Map<string, string>();
  const hls = renditions.find((r) => r.name === 'hls');
  if (!hls) {
    checks.fail('no hls rendition');
    return { readable, ladder: [] };
  }
  const masterPath = path.join(outDir, hls.relativePath);
  const master = await fs.readFile(masterPath, 'utf8').catch(() => undefined);
  if (master === undefined) {
    checks.fail(`hls master playlist ${hls.relativePath} is missing`);
    return { readable, ladder: [] };
  }
  const variants = parseMaster(master);
  checks.measurements['hls.variants'] = variants.length;
  const audio = parseMasterMedia(master).filter((m) => m.TYPE === 'AUDIO' && m['GROUP-ID'] === AUDIO_GROUP);
  if (wantAudio) await checkAudioGroup(masterPath, audio, checks);
  else if (audio.length > 0) checks.fail('hls has an audio group but the source has no sound');

  const seen = new Set<string>();
  for (const variant of variants) {
    const name = variant.uri.split('/')[0] ?? variant.uri;
    const label = `hls/${name}`;
    seen.add(name);
    const rung = sizes.find((r) => r.name === name);
    if (!rung) {
      checks.fail(`${label} is not in the planned ladder (${sizes.map((r) => r.name).join(', ')})`);
      continue;
    }
    if (wantAudio && variant.attributes.AUDIO !== AUDIO_GROUP)
      checks.fail(`${label} does not name the audio group "${AUDIO_GROUP}" in the master playlist`);
    for (const attribute of ['BANDWIDTH', 'RESOLUTION', 'CODECS']) {
      if (!variant.attributes[attribute]) checks.fail(`${label} has no ${attribute} in the master playlist`);
    }
    const expectedResolution = `${rung.width}x${rung.height}`;
    if (variant.attributes.RESOLUTION && variant.attributes.RESOLUTION !== expectedResolution) {
      checks.fail(
        `${label} master RESOLUTION ${variant.attributes.RESOLUTION} differs from expected ${expectedResolution}`,
      );
    }
    const playlist = path.resolve(path.dirname(masterPath), variant.uri);
    const exists = await fs.stat(playlist).catch(() => undefined);
    if (!exists) {
      checks.fail(`${label} playlist ${path.relative(outDir, playlist)} is missing`);
      continue;
    }
    if (await checkVideoFile(playlist, label, rung, false, checks)) readable.set(name, playlist);
  }
  const top = sizes[sizes.length - 1]!;
  if (!seen.has(top.name))
    checks.fail(`hls/${top.name} (the full picture) is missing from the master playlist`);
  return { readable, ladder: sizes.filter((r) => seen.has(r.name)) };
}

/** The one AAC track every rung plays with: listed once, readable, as long as the source. */
async function checkAudioGroup(masterPath: string, media: Record<string, string>[], checks: Checks) {
  const [entry, ...more] = media;
  if (!entry?.URI || more.length > 0) {
    checks.fail(`hls master playlist needs exactly one audio rendition in group "${AUDIO_GROUP}"`);
    return;
  }
  const playlist = path.resolve(path.dirname(masterPath), entry.URI);
  const probed = await probeAv(playlist).catch((err: unknown) => {
    checks.fail(`hls audio ${entry.URI} is not readable by ffprobe: ${message(err)}`);
    return undefined;
  });
  if (!probed) return;
  checks.duration('hls/audio', probed.durationSeconds);
  const codec = probed.audio?.codec ?? 'none';
  checks.measurements['hls/audio.codec'] = codec;
  if (codec !== 'aac') checks.fail(`hls audio codec is ${codec}, expected aac`);
  if (probed.video) checks.fail('hls audio rendition carries video');
}

/** ffprobe a variant playlist or MP4: duration, size, codecs. Returns whether ffprobe could read it. */
async function checkVideoFile(
  file: string,
  label: string,
  rung: Rung,
  wantAudio: boolean,
  checks: Checks,
): Promise<boolean> {
  let probed: AvInfo;
  try {
    probed = await probeAv(file);
  } catch (err) {
    checks.fail(`${label} is not readable by ffprobe: ${message(err)}`);
    return false;
  }
  checks.duration(label, probed.durationSeconds);
  const video = probed.video;
  if (!video) {
    checks.fail(`${label} has no video stream`);
    return true;
  }
  checks.measurements[`${label}.width`] = video.displayWidth;
  checks.measurements[`${label}.height`] = video.displayHeight;
  checks.measurements[`${label}.videoCodec`] = video.codec;
  if (video.displayWidth !== rung.width || video.displayHeight !== rung.height) {
    checks.fail(
      `${label} is ${video.displayWidth}x${video.displayHeight}, expected ${rung.width}x${rung.height}`,
    );
  }
  if (video.codec !== 'h264') checks.fail(`${label} video codec is ${video.codec}, expected h264`);
  if (wantAudio) {
    const codec = probed.audio?.codec ?? 'none';
    checks.measurements[`${label}.audioCodec`] = codec;
    if (codec !== 'aac') checks.fail(`${label} audio codec is ${codec}, expected aac`);
  }
  return true;
}

async function checkImage(file: string, label: string, checks: Checks): Promise<void> {
  try {
    const meta = await sharp(file).metadata();
    checks.measurements[`${label}.width`] = meta.width ?? 0;
    checks.measurements[`${label}.height`] = meta.height ?? 0;
  } catch (err) {
    checks.fail(`${label} ${path.basename(file)} cannot be decoded: ${message(err)}`);
  }
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));
