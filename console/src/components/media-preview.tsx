import { useEffect, useState } from 'preact/hooks';
import { renditionObjectUrl, type Asset } from '../api';
import { VideoPlayer } from './video-player';

function useRendition(token: string, asset: Asset, name: string | undefined): string | undefined {
  const [src, setSrc] = useState<string>();
  useEffect(() => {
    if (!name) return;
    let url: string | undefined;
    void renditionObjectUrl(token, asset.assetId, name).then(
      (u) => setSrc((url = u)),
      () => undefined,
    );
    return () => url && URL.revokeObjectURL(url);
  }, [asset.assetId, name]);
  return src;
}

/** The media itself, by family: image preview, HLS video, audio with its waveform, a PDF's first page. */
export function MediaPreview({ asset, token }: { asset: Asset; token: string }) {
  const family = asset.contentType.split('/')[0];
  const has = (name: string) => asset.renditions.some((r) => r.name === name);
  const picture =
    family === 'image'
      ? ['preview-2048', 'thumb-1024', 'thumb-256'].find(has)
      : family === 'audio'
        ? has('waveform')
          ? 'waveform'
          : undefined
        : asset.contentType === 'application/pdf' && has('page-1')
          ? 'page-1'
          : undefined;
  const src = useRendition(token, asset, picture);
  const audio = useRendition(token, asset, family === 'audio' && has('audio') ? 'audio' : undefined);
  if (asset.status !== 'ready') return <p class="no-preview">No preview until the asset is ready.</p>;
  if (family === 'video' && has('hls')) return <VideoPlayer asset={asset} token={token} />;
  if (family === 'video') return <VideoPlayer asset={asset} token={token} />;
  return (
    <figure class="preview">
      {src && (
        <img
          src={src}
          alt={`${picture === 'waveform' ? 'Waveform' : picture === 'page-1' ? 'First page' : 'Preview'} of ${asset.filename}`}
          data-rendition={picture}
        />
      )}
      {audio && <audio controls src={audio} aria-label={`Audio: ${asset.filename}`} />}
      {!picture && !audio && <p class="no-preview">No preview for {asset.contentType}.</p>}
    </figure>
  );
}
