import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ProbedStream {
  codec_type: string;
  codec_name: string;
  width?: number;
  height?: number;
  channels?: number;
}

/** ffprobe's view of a file or URL, as a player would open it. */
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
