/**
 * Uppy's dashboard (drag and drop, progress, pause and resume, and after a reload Golden Retriever's restore), loaded lazily by the upload page. Stock @uppy/aws-s3 in
 * Companion mode: `endpoint` is the API itself (same origin), which answers the /s3 routes; the bytes go to the
 * bucket with pre-signed PUTs (the bucket's CORS lists the console's origin). A single PUT has no completion call
 * in Companion's protocol, so the console sends POST /media/{id}/complete itself rather than wait for the bucket's
 * event notification (calling it again is harmless).
 */
import Uppy from '@uppy/core';
import Dashboard from '@uppy/dashboard';
import AwsS3 from '@uppy/aws-s3';
import GoldenRetriever from '@uppy/golden-retriever';
import '@uppy/core/css/style.min.css';
import '@uppy/dashboard/css/style.min.css';

const MULTIPART_FROM = 100 * 1024 * 1024;
/**
 * IndexedDBStore reads the size caps (its own type has them; the plugin's option type lists only name and version,
 * so `name` is given to satisfy it).
 */
const STORED = { name: 'assetline-console', maxFileSize: 2 ** 32, maxTotalSize: 2 ** 33 };

export function mountDashboard(
  target: HTMLElement,
  opts: { token: string; onUploaded: (f: { name: string; assetId: string }) => void },
): { close(): void } {
  const authorization = `Bearer ${opts.token}`;
  const uppy = new Uppy({ autoProceed: false })
    .use(Dashboard, { inline: true, target, height: 420, width: '100%', proudlyDisplayPoweredByUppy: false })
    .use(AwsS3, {
      endpoint: location.origin,
      headers: { authorization },
      shouldUseMultipart: (file) => (file.size ?? 0) > MULTIPART_FROM,
    })
    // Files and their multipart state survive a reload (IndexedDB); the default 10 MiB cap would drop large ones.
    .use(GoldenRetriever, { indexedDB: STORED });
  // A restored file counts as started, so upload() would skip it: its upload is run again instead, and the
  // multipart uploader asks S3 for the stored parts first and sends only the rest.
  uppy.on('restored', () => {
    for (const id of Object.keys(uppy.getState().currentUploads)) void uppy.restore(id);
  });
  // Companion's create carries no size: the API reads it from the meta.
  uppy.on('file-added', (file) => uppy.setFileMeta(file.id, { size: String(file.size) }));
  uppy.on('upload-success', (file, res) => {
    const body = (res.body ?? {}) as { assetId?: string };
    const assetId = body.assetId ?? assetIdOfKey(res.uploadURL);
    if (!file || !assetId) return;
    void fetch(`${location.origin}/media/${assetId}/complete`, {
      method: 'POST',
      headers: { authorization },
    }).finally(() => opts.onUploaded({ name: file.name ?? assetId, assetId }));
  });
  target.setAttribute('data-ready', 'yes');
  return { close: () => uppy.destroy() };
}

/** uploads/<owner>/<assetId>[/...]: the key domain/object-keys.ts builds for an upload. */
function assetIdOfKey(url: string | undefined): string | undefined {
  const match =
    url && /\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?:[/?]|$)/i.exec(url);
  return match ? match[1] : undefined;
}
