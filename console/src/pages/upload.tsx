import { useEffect, useRef, useState } from 'preact/hooks';
import type { Identity } from '../session';
import { manifest } from '../config';

export interface UploadedFile {
  name: string;
  assetId: string;
}

/** What upload-dashboard.ts exports: loaded only here, so Uppy stays out of the first page. */
interface DashboardModule {
  mountDashboard(
    target: HTMLElement,
    opts: { token: string; onUploaded: (f: UploadedFile) => void },
  ): { close(): void };
}

function loadCss(href: string): void {
  if (document.querySelector(`link[href="${href}"]`)) return;
  const link = document.createElement('link');
  link.rel = 'stylesheet';
  link.href = href;
  document.head.append(link);
}

/** Uppy's dashboard through the API's Companion routes (/s3/...), then each upload's asset page. */
export function UploadPage({ identity }: { identity: Identity }) {
  const target = useRef<HTMLDivElement>(null);
  const [uploaded, setUploaded] = useState<UploadedFile[]>([]);
  const [error, setError] = useState('');
  useEffect(() => {
    const entry = manifest.upload;
    if (!entry) return setError('The upload module is missing from this build.');
    let handle: { close(): void } | undefined;
    let cancelled = false;
    entry.css.forEach((c) => loadCss(`/console/${c}`));
    import(/* @vite-ignore */ `/console/${entry.js}`).then(
      (m: DashboardModule) => {
        if (cancelled || !target.current) return;
        handle = m.mountDashboard(target.current, {
          token: identity.token,
          onUploaded: (f) => setUploaded((prev) => [...prev, f]),
        });
      },
      (err: Error) => setError(`Could not load the uploader: ${err.message}`),
    );
    return () => {
      cancelled = true;
      handle?.close();
    };
  }, [identity.token]);
  return (
    <section aria-labelledby="upload-title">
      <h1 id="upload-title" tabIndex={-1}>
        Upload
      </h1>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      <div ref={target} class="dashboard" data-ready="no" />
      <h2>Uploaded</h2>
      <ul class="uploaded" aria-live="polite">
        {uploaded.map((f) => (
          <li key={f.assetId} data-asset-id={f.assetId}>
            <a href={`#/asset/${f.assetId}`}>{f.name}</a>
          </li>
        ))}
      </ul>
    </section>
  );
}
