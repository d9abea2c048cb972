import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { thumbHashToRGBA } from 'thumbhash';
import { renditionObjectUrl, type AssetSummary } from '../api';

/** The smallest picture each kind of asset has. */
const PREFERRED = ['thumb-256', 'poster', 'page-1', 'waveform'];

interface Decoded {
  w: number;
  h: number;
  rgba: Uint8Array;
}

/**
 * Decoded once per hash (a card re-renders with every page the library loads) into pixels that a small canvas shows
 * scaled up: no PNG to encode and decode again, which a data: URL would cost each card.
 */
const decoded = new Map<string, Decoded | null>();
function placeholderPixels(hash: string | null): Decoded | null {
  if (!hash) return null;
  if (!decoded.has(hash)) {
    let pixels: Decoded | null = null;
    try {
      pixels = thumbHashToRGBA(Uint8Array.from(atob(hash), (c) => c.charCodeAt(0)));
    } catch {
      pixels = null;
    }
    decoded.set(hash, pixels);
  }
  return decoded.get(hash)!;
}

function Placeholder({ pixels }: { pixels: Decoded }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useLayoutEffect(() => {
    const ctx = canvas.current?.getContext('2d');
    if (!ctx) return;
    const image = ctx.createImageData(pixels.w, pixels.h);
    image.data.set(pixels.rgba);
    ctx.putImageData(image, 0, 0);
  }, [pixels]);
  return <canvas ref={canvas} class="placeholder" width={pixels.w} height={pixels.h} aria-hidden="true" />;
}

/** At most this many thumbnails are fetched at once, so a long page does not queue behind itself. */
let active = 0;
const waiting: (() => void)[] = [];
async function limited<T>(task: () => Promise<T>): Promise<T> {
  if (active >= 6) await new Promise<void>((r) => waiting.push(r));
  active++;
  try {
    return await task();
  } finally {
    active--;
    waiting.shift()?.();
  }
}

/** The thumbhash at once, the thumbnail once the card scrolls into view and its bytes arrive. */
export function Thumbnail({ asset, token }: { asset: AssetSummary; token: string }) {
  const ref = useRef<HTMLDivElement>(null);
  const [src, setSrc] = useState<string>();
  const rendition = PREFERRED.find((name) => asset.renditions.some((r) => r.name === name));
  const pixels = placeholderPixels(asset.placeholder);
  useEffect(() => {
    if (!rendition || !ref.current) return;
    let url: string | undefined;
    let cancelled = false;
    const observer = new IntersectionObserver((entries) => {
      if (!entries.some((e) => e.isIntersecting)) return;
      observer.disconnect();
      void limited(() => renditionObjectUrl(token, asset.assetId, rendition))
        .then((u) => (cancelled ? URL.revokeObjectURL(u) : setSrc((url = u))))
        .catch(() => undefined);
    });
    observer.observe(ref.current);
    return () => {
      cancelled = true;
      observer.disconnect();
      if (url) URL.revokeObjectURL(url);
    };
  }, [asset.assetId, rendition, token]);
  return (
    <div ref={ref} class="thumb" data-placeholder={pixels ? 'yes' : 'no'}>
      {pixels && <Placeholder pixels={pixels} />}
      {src ? (
        <img src={src} alt="" data-loaded="yes" />
      ) : (
        !pixels && <span class="kind">{asset.contentType.split('/')[0]}</span>
      )}
    </div>
  );
}
