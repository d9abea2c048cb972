import { useEffect, useRef, useState } from 'preact/hooks';
import { thumbHashToDataURL } from 'thumbhash';
import { renditionObjectUrl, type AssetSummary } from '../api';

/** The smallest picture each kind of asset has. */
const PREFERRED = ['thumb-256', 'poster', 'page-1', 'waveform'];

/** Decoded once per hash: a card re-renders with every page the library loads. */
const decoded = new Map<string, string | undefined>();
function placeholderUrl(hash: string | null): string | undefined {
  if (!hash) return undefined;
  if (!decoded.has(hash)) {
    let url: string | undefined;
    try {
      url = thumbHashToDataURL(Uint8Array.from(atob(hash), (c) => c.charCodeAt(0)));
    } catch {
      url = undefined;
    }
    decoded.set(hash, url);
  }
  return decoded.get(hash);
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
  const placeholder = placeholderUrl(asset.placeholder);
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
    <div
      ref={ref}
      class="thumb"
      style={placeholder ? { backgroundImage: `url(${placeholder})` } : undefined}
      data-placeholder={placeholder ? 'yes' : 'no'}
    >
      {src ? (
        <img src={src} alt="" data-loaded="yes" />
      ) : (
        !placeholder && <span class="kind">{asset.contentType.split('/')[0]}</span>
      )}
    </div>
  );
}
