import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';

/** The tests' own ffmpeg and ffprobe calls: fixture making, and looking at outputs as a player would. */
const run = promisify(execFile);

export async function ffmpeg(...args: string[]): Promise<void> {
  await run('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', ...args], { timeout: 60_000 });
}

export interface ProbedStream {
  codec_type: string;
  codec_name: string;
  width?: number;
  height?: number;
  channels?: number;
}

/** ffprobe's view of a file or URL. */
export async function ffprobe(
  source: string,
): Promise<{ streams: ProbedStream[]; format: { duration?: string } }> {
  const { stdout } = await run('ffprobe', [
    '-v',
    'error',
    '-print_format',
    'json',
    '-show_streams',
    '-show_format',
    source,
  ]);
  return JSON.parse(stdout);
}

/** ffmpeg processes that are children of this test process: none may outlive a cancelled job. */
export function ffmpegChildren(): number[] {
  const out = execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter(([, comm]) => comm === 'ffmpeg')
    .map(([pid]) => Number(pid));
}
