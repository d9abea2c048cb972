import { transcodeVideo, type VideoOutput } from './video';
import { renderVideoPreviews } from './video-previews';
import type { AvInfo, WorkControl } from './types';

/**
 * The ladder and the previews (storyboard, animated preview) side by side: the previews' decode fills the gaps the
 * encoders leave. The first failure stops the other run, and both have ended before the scratch directory goes.
 */
export async function videoWithPreviews(
  src: string,
  outDir: string,
  info: AvInfo,
  control: WorkControl,
): Promise<VideoOutput> {
  const both = new AbortController();
  const stop = () => both.abort(control.signal?.reason);
  control.signal?.addEventListener('abort', stop, { once: true });
  let first: unknown;
  const failFast = (err: unknown): never => {
    first ??= err;
    both.abort(err);
    throw err;
  };
  try {
    const [ladder, previews] = await Promise.allSettled([
      transcodeVideo(src, outDir, info, { ...control, signal: both.signal }).catch(failFast),
      renderVideoPreviews(src, outDir, info, { signal: both.signal, stallMs: control.stallMs }).catch(
        failFast,
      ),
    ]);
    if (ladder.status === 'rejected' || previews.status === 'rejected') throw first;
    return { ...ladder.value, renditions: [...ladder.value.renditions, ...previews.value] };
  } finally {
    control.signal?.removeEventListener('abort', stop);
  }
}
