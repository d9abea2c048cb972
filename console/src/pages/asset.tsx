import { useEffect, useState } from 'preact/hooks';
import { apiFor, formatBytes, SETTLED, type Asset } from '../api';
import type { Identity } from '../session';
import { temporalRunUrl } from '../config';
import { StatusBadge, VisibilityBadge } from '../components/badges';
import { MediaPreview } from '../components/media-preview';
import { Timeline } from '../components/timeline';
import { LadderPanel } from '../components/ladder';
import { TagEditor } from '../components/tag-editor';
import { VisibilityEditor } from '../components/visibility-editor';
import { AclEditor } from '../components/acl-editor';
import { RegionsEditor } from '../components/regions-editor';
import { AssetActions } from '../components/asset-actions';

/** How often a page whose asset is still moving asks again (the live stage and percent come from the workflow). */
const POLL_MS = 1000;

export function AssetPage({ identity, assetId }: { identity: Identity; assetId: string }) {
  const api = apiFor(identity.token);
  const [asset, setAsset] = useState<Asset | null>(null);
  const [missing, setMissing] = useState(false);
  const [error, setError] = useState('');
  const [tick, setTick] = useState(0);
  /** After a delete or restore the workflow moves the status: the page polls until it is one of these. */
  const [awaiting, setAwaiting] = useState<readonly string[] | null>(null);
  const refresh = (expect?: readonly string[]) => {
    if (expect) setAwaiting(expect);
    setTick((t) => t + 1);
  };

  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let cancelled = false;
    void (async () => {
      const {
        data,
        error: problem,
        response,
      } = await api.GET('/media/{id}', { params: { path: { id: assetId } } });
      if (cancelled) return;
      if (response.status === 404 || response.status === 400) return setMissing(true);
      if (!data) return setError((problem as { detail?: string })?.detail ?? `HTTP ${response.status}`);
      setAsset(data);
      const moving = awaiting !== null && !awaiting.includes(data.status);
      if (awaiting && !moving) setAwaiting(null);
      if (!SETTLED.includes(data.status) || moving) timer = setTimeout(() => setTick((t) => t + 1), POLL_MS);
    })();
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [assetId, tick]);

  if (missing)
    return (
      <section class="not-found" data-state="not-found">
        <h1 tabIndex={-1}>Asset not found</h1>
        <p>There is no asset {assetId} that you may see.</p>
        <a href="#/library">Back to the library</a>
      </section>
    );
  if (!asset)
    return (
      <section aria-busy="true">
        <h1 tabIndex={-1}>Asset</h1>
        {error ? (
          <p role="alert" class="error">
            {error}
          </p>
        ) : (
          <p>Loading…</p>
        )}
      </section>
    );
  const run = temporalRunUrl(asset.assetId);
  const isOwner = asset.ownerId === identity.ownerId || identity.operator;
  return (
    <article class="asset" data-asset-id={asset.assetId} data-status={asset.status}>
      <h1 tabIndex={-1}>{asset.filename}</h1>
      <p class="summary">
        <StatusBadge status={asset.status} stage={asset.stage} />{' '}
        <VisibilityBadge visibility={asset.visibility} /> {asset.contentType} · {formatBytes(asset.sizeBytes)}
        {asset.statusReason && <span class="reason"> · {asset.statusReason}</span>}
        {run && (
          <>
            {' · '}
            <a href={run} target="_blank" rel="noreferrer">
              Run in the Temporal UI
            </a>
          </>
        )}
      </p>
      {asset.status === 'processing' && asset.stage && (
        <div class="progress">
          <label for="stage-progress">Stage: {asset.stage.name}</label>
          <progress id="stage-progress" max={100} value={asset.stage.percent ?? undefined} />
        </div>
      )}
      <div class="asset-grid">
        <div>
          <MediaPreview asset={asset} token={identity.token} />
          <Renditions asset={asset} />
          {asset.media?.ladder && <LadderPanel ladder={asset.media.ladder} />}
          <Timeline asset={asset} />
        </div>
        <div>
          <AssetActions api={api} asset={asset} onChange={refresh} />
          <TagEditor api={api} asset={asset} onChange={() => refresh()} />
          {isOwner && <VisibilityEditor api={api} asset={asset} onChange={() => refresh()} />}
          {isOwner && <AclEditor api={api} asset={asset} />}
          {isOwner && <RegionsEditor api={api} asset={asset} onChange={() => refresh()} />}
        </div>
      </div>
    </article>
  );
}

function Renditions({ asset }: { asset: Asset }) {
  if (asset.renditions.length === 0) return null;
  return (
    <section aria-labelledby="renditions-title">
      <h2 id="renditions-title">Renditions</h2>
      <table>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Type</th>
            <th scope="col">Size</th>
            <th scope="col">Bytes</th>
          </tr>
        </thead>
        <tbody>
          {asset.renditions.map((r) => (
            <tr key={r.name}>
              <td>{r.name}</td>
              <td>{r.mimeType}</td>
              <td>
                {r.width && r.height
                  ? `${r.width}×${r.height}`
                  : r.durationSeconds
                    ? `${r.durationSeconds.toFixed(1)} s`
                    : ''}
              </td>
              <td>{formatBytes(r.sizeBytes)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
