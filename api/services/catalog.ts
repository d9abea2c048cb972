import type { CatalogEntry, CatalogFilter, CatalogRepository } from '../../infra/adapters/catalog-repository';
import type { Cdn } from '../../infra/adapters/cdn';
import { deliveryAccess } from '../../domain/delivery/delivery-access';
import { renditionPath } from '../../domain/delivery/asset-paths';
import { decodeSearchCursor, mimeTypesOf } from './asset-listings';

export interface CatalogRequest {
  type?: string | undefined;
  viewerCountry: string | undefined;
  after?: CatalogFilter['after'];
  limit: number;
}

/**
 * GET /catalog: what anyone may watch, newest release first, without a token. An entry names no owner (a public
 * answer says what is published, not who published it); its URLs are the CDN's: stable unsigned ones for an asset
 * without a regional policy, signed ones binding the policy (and stopping at unpublishAt) otherwise.
 */
export class CatalogService {
  constructor(private readonly deps: { catalog: CatalogRepository; cdn: Cdn }) {}

  async list(r: CatalogRequest, now = new Date()) {
    const entries = await this.deps.catalog.page({
      mimeTypes: mimeTypesOf(r.type),
      viewerCountry: r.viewerCountry,
      after: r.after,
      limit: r.limit,
      now,
    });
    const page = entries.slice(0, r.limit);
    const last = page.at(-1);
    return {
      items: page.map((e) => this.render(e, now)),
      next: entries.length > r.limit && last ? encodeCatalogCursor(last) : null,
    };
  }

  private render(e: CatalogEntry, now: Date) {
    const access = deliveryAccess(e.access, now);
    const url = (path: string) => this.deps.cdn.deliveryUrl(e.assetId, path, access);
    return {
      assetId: e.assetId,
      contentType: e.contentType,
      filename: e.filename,
      releasedAt: e.releasedAt,
      title: e.title,
      description: e.description,
      url: url('original'),
      renditions: e.renditions.map((r) => ({ ...r, url: url(renditionPath(r.name)) })),
    };
  }
}

const encodeCatalogCursor = (e: CatalogEntry) =>
  Buffer.from(JSON.stringify([e.position, e.assetId])).toString('base64url');

/** The same shape as GET /media's ([position, asset id]); undefined for anything else (the route answers 400). */
export function decodeCatalogCursor(value: string): CatalogFilter['after'] {
  const after = decodeSearchCursor(value);
  return after && { releasedAt: after.createdAt, assetId: after.assetId };
}
