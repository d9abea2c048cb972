import { useEffect, useRef, useState } from 'preact/hooks';
import { delivered, renditionObjectUrl, type Asset } from '../api';
import { parseStoryboard, type StoryboardCue } from './storyboard';

/**
 * The signed HLS master through hls.js (loaded on first use, a chunk of its own), or natively where the browser
 * plays HLS. Counts the fragments hls.js loaded on the element (data-fragments) for whoever checks playback. With
 * a `storyboard` rendition, hovering the scrub strip shows the frame at that time.
 */
export function VideoPlayer({ asset, token }: { asset: Asset; token: string }) {
  const video = useRef<HTMLVideoElement>(null);
  const [error, setError] = useState('');
  const [poster, setPoster] = useState<string>();
  const [cues, setCues] = useState<StoryboardCue[]>([]);
  const has = (name: string) => asset.renditions.some((r) => r.name === name);

  useEffect(() => {
    let destroy = () => undefined as void;
    let cancelled = false;
    void (async () => {
      try {
        const master = (await delivered(token, asset.assetId, 'hls')).url;
        const el = video.current;
        if (cancelled || !el) return;
        const { default: Hls } = await import('hls.js');
        if (cancelled) return;
        if (!Hls.isSupported()) {
          el.src = master;
          return;
        }
        const hls = new Hls();
        let fragments = 0;
        hls.on(Hls.Events.FRAG_LOADED, () => el.setAttribute('data-fragments', String(++fragments)));
        hls.on(Hls.Events.ERROR, (_e, data) => data.fatal && setError(`Playback failed: ${data.details}`));
        hls.loadSource(master);
        hls.attachMedia(el);
        destroy = () => hls.destroy();
      } catch (err) {
        setError((err as Error).message);
      }
    })();
    return () => {
      cancelled = true;
      destroy();
    };
  }, [asset.assetId, token]);

  useEffect(() => {
    if (!has('poster')) return;
    let url: string | undefined;
    void renditionObjectUrl(token, asset.assetId, 'poster').then(
      (u) => setPoster((url = u)),
      () => undefined,
    );
    return () => url && URL.revokeObjectURL(url);
  }, [asset.assetId]);

  useEffect(() => {
    if (!has('storyboard')) return;
    void delivered(token, asset.assetId, 'storyboard')
      .then(async (res) => setCues(parseStoryboard(await res.text(), res.url)))
      .catch(() => undefined);
  }, [asset.assetId]);

  return (
    <figure class="player">
      <video ref={video} controls playsInline poster={poster} aria-label={`Video: ${asset.filename}`} />
      {cues.length > 0 && <ScrubPreview cues={cues} video={video} />}
      {error && (
        <figcaption role="alert" class="error">
          {error}
        </figcaption>
      )}
    </figure>
  );
}

function ScrubPreview({
  cues,
  video,
}: {
  cues: StoryboardCue[];
  video: { current: HTMLVideoElement | null };
}) {
  const [at, setAt] = useState<{ cue: StoryboardCue; left: number } | null>(null);
  const duration = cues[cues.length - 1]!.end;
  const timeAt = (e: MouseEvent) => {
    const box = (e.currentTarget as HTMLElement).getBoundingClientRect();
    return { t: ((e.clientX - box.left) / box.width) * duration, left: e.clientX - box.left };
  };
  return (
    <div
      class="scrub"
      data-storyboard-cues={cues.length}
      onMouseMove={(e) => {
        const { t, left } = timeAt(e);
        const cue = cues.find((c) => t >= c.start && t < c.end);
        setAt(cue ? { cue, left } : null);
      }}
      onMouseLeave={() => setAt(null)}
      onClick={(e) => video.current && (video.current.currentTime = timeAt(e).t)}
      aria-hidden="true"
    >
      {at && (
        <div
          class="scrub-frame"
          style={{
            left: `${at.left}px`,
            width: `${at.cue.w}px`,
            height: `${at.cue.h}px`,
            backgroundImage: `url("${at.cue.url}")`,
            backgroundPosition: `-${at.cue.x}px -${at.cue.y}px`,
          }}
        />
      )}
    </div>
  );
}
