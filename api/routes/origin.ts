import { Router, type Request } from 'express';
import type { ObjectStore } from '../../infra/adapters/object-store';
import type { BlobRow, MediaAssetRow } from '../../infra/db/schema';
import {
  hlsContentType,
  isPlaylist,
  parseAssetPath,
  type AssetPath,
} from '../../domain/delivery/asset-paths';
import { signPlaylist } from '../delivery/playlist-signing';
import { signVtt } from '../delivery/vtt-signing';
import { deliveryAccess, servesUnsigned } from '../../domain/delivery/delivery-access';
import { parseRegionParam, regionAllows } from '../../domain/delivery/regions';
import {
  queryString,
  signedPrefix,
  verifySecureLink,
  type SignedQuery,
} from '../../domain/delivery/secure-link';
import { assetIdSchema } from '../schemas';
import type { ApiDeps } from '../deps';
import { HttpProblem, notFound } from '../problem';
import { servePlaylist, serveObject } from '../serve-object';
import { viewerCountry } from '../viewer-country';

/** Content-addressed: a path below an asset never changes what it names. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** Originals are the owner's bytes: no shared cache keeps them, and no browser either. */
const PRIVATE = 'private, no-store, max-age=0';

/**
 * The origin behind the edge: `GET|HEAD /origin/d/<assetId>/<path>?md5&expires` (signed) and `/origin/p/...`
 * (open assets: public or unlisted, with no regional policy; or one about to be, fetched with a token to warm the
 * edge before its release). Mounted before requireAuth: tokens authorise here, not JWTs. It checks the token
 * itself too, so reaching it directly, around the edge, gains nothing.
 */
export function originRoutes(deps: ApiDeps): Router {
  const router = Router();

  router.get('/origin/:scope/:assetId/*path', async (req, res) => {
    const scope = req.params.scope;
    const assetId = assetIdSchema.safeParse(req.params.assetId).data?.toLowerCase();
    const path = parseAssetPath((req.params.path as unknown as string[]).join('/'));
    if ((scope !== 'd' && scope !== 'p') || !assetId || !path) throw notFound('no such delivery path');

    const signed = scope === 'd' ? authorise(req, assetId, deps.settings.deliverySigningSecret) : undefined;
    // The platform warming the edge before a scheduled release fetches the public URLs early, with a token.
    const warming =
      scope === 'p' && req.query.md5 !== undefined
        ? authorise(req, assetId, deps.settings.deliverySigningSecret)
        : undefined;
    const asset = await deps.assets.findById(assetId);
    if (!asset || asset.status !== 'ready') throw notFound();
    const access = deliveryAccess(asset);
    if (!signed && !warming && !servesUnsigned(access)) throw notFound();
    // The token's policy is what the edge enforced; the row's is today's (a policy changed since the token was
    // signed binds at once here, however long the token still runs).
    const country = viewerCountry(req);
    const bound = signed?.geo ? parseRegionParam(signed.geo) : null;
    if (!regionAllows(bound ?? null, country) || !regionAllows(access.regions, country)) {
      throw unavailableHere(country);
    }
    const blob = asset.blob_sha256 ? await deps.blobs.get(asset.blob_sha256) : undefined;
    if (!blob || blob.status !== 'ready') throw notFound();

    const target = await resolve(deps, asset, blob, path);
    const opts = {
      contentType: target.contentType,
      cacheControl: path.kind === 'original' ? PRIVATE : IMMUTABLE,
      onRead: () => deps.accessRecorder.record(assetId),
    };
    if (path.kind === 'hls' && isPlaylist(path.file)) {
      const rewrite = signed ? (text: string) => signPlaylist(text, queryString(signed)) : (t: string) => t;
      await servePlaylist(req, res, target.store, target.key, rewrite, opts);
    } else if (path.kind === 'rendition' && target.contentType === 'text/vtt') {
      // A storyboard's cues name its sprite sheets relative to it: they carry the token like a playlist's URIs.
      const rewrite = signed ? (text: string) => signVtt(text, queryString(signed)) : (t: string) => t;
      await servePlaylist(req, res, target.store, target.key, rewrite, opts);
    } else {
      await serveObject(req, res, target.store, target.key, opts, deps.logger);
    }
  });

  return router;
}

/** 451 (RFC 7725); never cached, as the answer depends on who asks. */
function unavailableHere(country: string | undefined): HttpProblem {
  return new HttpProblem(
    451,
    'Unavailable For Legal Reasons',
    `this asset is not available in the viewer's country (${country ?? 'unknown'})`,
    { country: country ?? 'unknown' },
    { 'Cache-Control': 'private, no-store' },
  );
}

/** 403 for a missing or wrong token, 410 for a right one past its expiry (as the nginx edge answers). */
function authorise(req: Request, assetId: string, secret: string): SignedQuery {
  const { md5, expires, geo } = req.query;
  const verdict = verifySecureLink(signedPrefix(assetId), md5, expires, secret, undefined, geo);
  if (verdict === 'invalid') throw new HttpProblem(403, 'Forbidden', 'missing or invalid delivery token');
  if (verdict === 'expired') throw new HttpProblem(410, 'Gone', 'this delivery URL has expired');
  return { md5: md5 as string, expires: expires as string, geo: geo as string | undefined };
}

async function resolve(
  deps: ApiDeps,
  asset: MediaAssetRow,
  blob: BlobRow,
  path: AssetPath,
): Promise<{ store: ObjectStore; key: string; contentType: string }> {
  // The original follows its blob through the storage tiers; renditions stay in the primary bucket.
  if (path.kind === 'original') {
    const store = deps.buckets?.bucket(blob.bucket) ?? deps.store;
    return { store, key: blob.object_key, contentType: asset.mime_type };
  }
  if (path.kind === 'rendition') {
    const rendition = (await deps.blobs.renditions(blob.sha256)).find((r) => r.name === path.name);
    if (!rendition) throw notFound(`no rendition ${path.name}`);
    return { store: deps.store, key: rendition.object_key, contentType: rendition.mime_type };
  }
  if (!blob.rendition_prefix) throw notFound('no HLS renditions');
  const key = `${blob.rendition_prefix}hls/${path.file}`;
  // parseAssetPath already refuses '..' and separators; this keeps the promise even if it ever changes.
  if (!key.startsWith(`${blob.rendition_prefix}hls/`) || key.includes('/../')) throw notFound();
  return { store: deps.store, key, contentType: hlsContentType(path.file) };
}
