import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { LocalPlatform } from '../devstack';
import { ClamdScanner } from '../infra/adapters/clamd-scanner';
import type { ObjectStore } from '../infra/adapters/object-store';
import { S3ObjectStore } from '../infra/adapters/s3-object-store';
import type { Scanner } from '../infra/adapters/scanner';
import { LocalWorkspace } from '../infra/adapters/workspace';
import { sha256OfObject } from '../activities/hashing/hash';
import { sniffStoredObject } from '../activities/sniff-content';
import { probeImage, renderImage } from '../activities/media/tools/image';
import { probeAv } from '../activities/media/tools/probe';
import { videoWithPreviews } from '../activities/media/tools/video-with-previews';
import { validateVideo } from '../activities/media/tools/validate';
import { checkPreviews, mergeReports } from '../activities/media/tools/preview-checks';
import type { RenditionFile } from '../activities/media/tools/types';

export interface RawDeps {
  store: ObjectStore;
  scanner: Scanner;
  workspace: LocalWorkspace;
  maxImagePixels: number;
}

/** The baseline's adapters on the bench platform's own bucket and clamd, with a workspace of its own. */
export function rawDepsFor(platform: LocalPlatform, workDir: string): RawDeps {
  return {
    store: new S3ObjectStore({
      endpoint: platform.env.S3_ENDPOINT!,
      region: 'us-east-1',
      bucket: platform.env.S3_BUCKET!,
      accessKeyId: platform.env.S3_ACCESS_KEY_ID!,
      secretAccessKey: platform.env.S3_SECRET_ACCESS_KEY!,
      forcePathStyle: true,
    }),
    scanner: new ClamdScanner({ host: platform.clamd!.host, port: platform.clamd!.port }),
    workspace: new LocalWorkspace(path.join(workDir, 'raw-work')),
    maxImagePixels: 100_000_000,
  };
}

/**
 * The baseline: the pipeline's work on an object already in S3 — streamed SHA-256, sniffing, the copy to its
 * content address, the clamd scan, the download, the probe, the same sharp or ffmpeg calls (for video the ladder
 * and, beside it, the storyboard and animated preview), for video the same validation and preview checks (on the
 * local outputs, as a plain script would), and the upload of the renditions — as one plain function: no Temporal,
 * no API, no database.
 */
export async function rawPipeline(deps: RawDeps, uploadKey: string, contentType: string): Promise<void> {
  const { store, workspace } = deps;
  const head = await store.head(uploadKey);
  if (!head) throw new Error(`${uploadKey} is missing`);
  const hashed = await sha256OfObject(store, uploadKey);
  if (!hashed) throw new Error(`no object at ${uploadKey}`);
  const { sha256 } = hashed;
  const { verdict: sniffed } = await sniffStoredObject(store, uploadKey, contentType);
  if (!sniffed.ok) throw new Error(`sniffing refused ${uploadKey}: ${sniffed.reason}`);
  const blobKey = `raw-blobs/${sha256}-${randomUUID()}`;
  await store.copy(uploadKey, blobKey);
  await store.delete(uploadKey);

  const body = await store.read(blobKey);
  const verdict = await deps.scanner.scan(body).finally(() => body.destroy());
  if (verdict.verdict !== 'clean') throw new Error(`scan of ${blobKey}: ${verdict.verdict}`);

  const src = await workspace.source(store, sha256, blobKey, head.sizeBytes);
  const outDir = await workspace.scratch();
  const prefix = `raw-renditions/${sha256}/${randomUUID()}/`;
  try {
    if (sniffed.family === 'image') {
      const info = await probeImage(src, { maxPixels: deps.maxImagePixels });
      await renderImage(src, outDir, info, { maxPixels: deps.maxImagePixels });
      await workspace.uploadDir(store, outDir, prefix);
    } else if (sniffed.family === 'video') {
      const info = await probeAv(src);
      if (info.kind !== 'video') throw new Error(`${blobKey} has no video stream`);
      // The ladder beside the storyboard and animated preview, and the checks of both, as the platform makes them.
      const files: RenditionFile[] = (await videoWithPreviews(src, outDir, info, {})).renditions;
      const report = mergeReports(
        await validateVideo(src, outDir, info, files),
        await checkPreviews(outDir, info, files),
      );
      if (!report.ok) throw new Error(`validation of ${blobKey}: ${report.reason}`);
      await workspace.uploadDir(store, outDir, prefix);
    } else {
      throw new Error(`the baseline handles images and video, not ${sniffed.family}`);
    }
  } finally {
    await workspace.release(outDir);
  }
}
