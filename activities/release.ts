import type { AssetRepository } from '../infra/adapters/asset-repository';
import type { BlobRepository } from '../infra/adapters/blob-repository';
import type { Cdn } from '../infra/adapters/cdn';
import type { EventPublisher } from '../infra/adapters/event-publisher';
import type { ObjectStore } from '../infra/adapters/object-store';
import { releaseEventId, type ReleaseRepository } from '../infra/adapters/release-repository';
import { renditionPath } from '../domain/delivery/asset-paths';
import { deliveryAccess } from '../domain/delivery/delivery-access';
import { advanceRelease, isOpen } from '../domain/visibility';
import { toSchedule, type ReleaseSchedule } from '../workflows/definitions';
import { keepBeating } from './heartbeat';

export interface ReleaseDeps {
  releases: ReleaseRepository;
  events: EventPublisher;
  cdn: Cdn;
}

/**
 * The release clock's tick: applies whatever of the asset's schedule is due now (the database holds the schedule;
 * the workflow only keeps the time) and answers what is left. `due` is the instant the clock woke for: its events
 * are announced again on a retry, whose row has already moved on.
 */
export function advanceReleaseActivity(deps: ReleaseDeps) {
  return async function advanceRelease_(input: {
    assetId: string;
    due: string;
  }): Promise<ReleaseSchedule | null> {
    const applied = await deps.releases.apply(
      input.assetId,
      (current) => advanceRelease(current, new Date()),
      'scheduled release',
    );
    if (!applied) return null;
    const due = new Date(input.due);
    const announced = applied.eventIds.length
      ? applied.eventIds
      : [
          releaseEventId(input.assetId, 'asset.published', due),
          releaseEventId(input.assetId, 'asset.unpublished', due),
        ];
    for (const eventId of announced) await deps.events.publish(eventId);
    // Taken down: nothing of it may stay at the edge for the viewers who no longer may see it.
    if (applied.changed && !isOpen(applied.release.visibility)) {
      await deps.cdn.purge(input.assetId);
    }
    return toSchedule(applied.release);
  };
}

export interface WarmDeps {
  assets: AssetRepository;
  blobs: BlobRepository;
  store: ObjectStore;
  cdn: Cdn;
  warmRenditions: readonly string[];
}

/** The first segments of each HLS variant: what a player fetches in its first seconds. */
const FIRST_SEGMENTS = 2;

/**
 * Before a scheduled release: the edge fetches the asset's posters and thumbnails, its HLS playlists and each
 * variant's first segments, so the first viewers at the release instant hit a warm cache. Answers what it warmed.
 */
export function warmReleaseActivity(deps: WarmDeps) {
  return async function warmRelease(input: { assetId: string }): Promise<string[]> {
    return keepBeating(async () => {
      const asset = await deps.assets.findById(input.assetId);
      if (!asset?.blob_sha256 || asset.status !== 'ready') return [];
      const blob = await deps.blobs.get(asset.blob_sha256);
      const renditions = await deps.blobs.renditions(asset.blob_sha256);
      const paths = renditions
        .filter((r) => deps.warmRenditions.includes(r.name))
        .map((r) => renditionPath(r.name));
      if (blob?.rendition_prefix && renditions.some((r) => r.name === 'hls')) {
        paths.push(...(await hlsStart(deps.store, `${blob.rendition_prefix}hls/`)));
      }
      // As its viewers will fetch them after the release (unsigned when it opens without a regional policy).
      // As at the release instant: what its viewers will be handed then.
      const access = deliveryAccess(asset, asset.publish_at ? new Date(asset.publish_at) : new Date());
      const urls = paths.map((p) => deps.cdn.warmUrl(input.assetId, p, access));
      await deps.cdn.warm(urls);
      return paths;
    });
  };
}

/** `hls/master.m3u8`, each variant playlist and its first segments, as paths below the asset. */
async function hlsStart(store: ObjectStore, prefix: string): Promise<string[]> {
  const master = await readText(store, `${prefix}master.m3u8`);
  if (master === undefined) return [];
  const paths = ['hls/master.m3u8'];
  // The variants, and the renditions they share (the audio group's URI="..."), which players fetch just as early.
  for (const variant of [...uris(master), ...mediaUris(master)]) {
    paths.push(`hls/${variant}`);
    const playlist = await readText(store, `${prefix}${variant}`);
    const dir = variant.includes('/') ? variant.slice(0, variant.lastIndexOf('/') + 1) : '';
    const init = /#EXT-X-MAP:URI="([^"./][^"]*)"/.exec(playlist ?? '')?.[1];
    if (init) paths.push(`hls/${dir}${init}`);
    for (const segment of uris(playlist ?? '').slice(0, FIRST_SEGMENTS)) paths.push(`hls/${dir}${segment}`);
  }
  return paths;
}

const uris = (playlist: string) =>
  playlist
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#') && !l.includes('..') && !l.includes('://'));

const mediaUris = (master: string) =>
  [...master.matchAll(/^#EXT-X-MEDIA:.*URI="([^"]+)"/gm)]
    .map((m) => m[1]!)
    .filter((u) => !u.includes('..') && !u.includes('://'));

async function readText(store: ObjectStore, key: string): Promise<string | undefined> {
  try {
    const chunks: Buffer[] = [];
    for await (const chunk of await store.read(key)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  } catch {
    return undefined;
  }
}
