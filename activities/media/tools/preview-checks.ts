import fs from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { PREVIEW_MAX_WIDTH } from './preview';
import type { AvInfo, RenditionFile, ValidationReport } from './types';

const TIMING = /^(\d{2,}):(\d{2}):(\d{2})\.(\d{3}) --> (\d{2,}):(\d{2}):(\d{2})\.(\d{3})$/;
const PAYLOAD = /^([A-Za-z0-9._-]+)#xywh=(\d+),(\d+),(\d+),(\d+)$/;
/** Cues must reach the video's end within this. */
const END_TOLERANCE_SECONDS = 0.5;

const seconds = (h: string, m: string, s: string, ms: string) =>
  Number(h) * 3600 + Number(m) * 60 + Number(s) + Number(ms) / 1000;

/**
 * The storyboard and the animated preview, read back as a player would: the VTT parses, its cues run back to back
 * from 0 to the end, each names a published sheet and a rectangle inside that sheet's real pixels; the preview is an
 * animated WebP of several frames, no wider than planned. A video without them (made before previews) passes.
 */
export async function checkPreviews(
  dir: string,
  info: AvInfo,
  files: RenditionFile[],
): Promise<ValidationReport> {
  const problems: string[] = [];
  const measurements: Record<string, number | string> = {};
  const vtt = files.find((f) => f.name === 'storyboard');
  if (vtt) {
    const sizes = new Map<string, { width: number; height: number }>();
    const sheetSize = async (name: string) => {
      if (!sizes.has(name)) {
        const sheet = files.find((f) => f.name === name);
        // From the bytes, not the path: libvips' cache would answer for a file rewritten in place.
        const meta = sheet && (await sharp(await fs.readFile(path.join(dir, sheet.relativePath))).metadata());
        sizes.set(name, { width: meta?.width ?? 0, height: meta?.height ?? 0 });
      }
      return sizes.get(name)!;
    };
    const lines = (await fs.readFile(path.join(dir, vtt.relativePath), 'utf8')).split(/\r?\n/);
    if (lines[0]?.trim() !== 'WEBVTT') problems.push('storyboard: no WEBVTT header');
    let end = 0;
    let cues = 0;
    for (let i = 1; i < lines.length; i++) {
      const t = TIMING.exec(lines[i]!.trim());
      if (!t) continue;
      const [from, to] = [seconds(t[1]!, t[2]!, t[3]!, t[4]!), seconds(t[5]!, t[6]!, t[7]!, t[8]!)];
      const p = PAYLOAD.exec(lines[i + 1]?.trim() ?? '');
      if (!p) {
        problems.push(`storyboard: cue at ${from} s has no <sheet>#xywh= payload`);
        break;
      }
      if (Math.abs(from - end) > 0.002 || to <= from) {
        problems.push(`storyboard: cue ${from}–${to} s does not follow the previous one (ending ${end} s)`);
        break;
      }
      const [x, y, w, h] = [p[2], p[3], p[4], p[5]].map(Number) as [number, number, number, number];
      const size = await sheetSize(p[1]!);
      if (w === 0 || h === 0 || x + w > size.width || y + h > size.height) {
        problems.push(`storyboard: cue at ${from} s points outside ${p[1]} (${size.width}×${size.height})`);
        break;
      }
      end = to;
      cues++;
    }
    measurements['storyboard.cues'] = cues;
    measurements['storyboard.sheets'] = sizes.size;
    if (cues === 0) problems.push('storyboard: no cues');
    else if (Math.abs(end - info.durationSeconds) > END_TOLERANCE_SECONDS) {
      problems.push(`storyboard: cues end at ${end} s, the video at ${info.durationSeconds.toFixed(2)} s`);
    }
  }
  const preview = files.find((f) => f.name === 'preview');
  if (preview) {
    const meta = await sharp(await fs.readFile(path.join(dir, preview.relativePath)), { pages: -1 })
      .metadata()
      .catch(() => undefined);
    measurements['preview.frames'] = meta?.pages ?? 0;
    if (meta?.format !== 'webp' || (meta.pages ?? 1) < 2) {
      problems.push('preview: not an animated WebP of several frames');
    } else if (meta.width > PREVIEW_MAX_WIDTH) {
      problems.push(`preview: ${meta.width} px wide, above ${PREVIEW_MAX_WIDTH}`);
    }
  }
  return problems.length
    ? { ok: false, reason: problems.join('; '), measurements }
    : { ok: true, measurements };
}

/** Both reports in one: ok when both are. */
export function mergeReports(a: ValidationReport, b: ValidationReport): ValidationReport {
  const reasons = [a.reason, b.reason].filter(Boolean);
  const measurements = { ...a.measurements, ...b.measurements };
  return reasons.length
    ? { ok: false, reason: reasons.join('; '), measurements }
    : { ok: true, measurements };
}
