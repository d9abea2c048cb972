import type { ConfigOf } from '../config';
import type { Logger } from '../logger';
import { publicPrefix, queryString, signQuery, signedPrefix } from '../../domain/delivery/secure-link';
import { servesUnsigned, type DeliveryAccess } from '../../domain/delivery/delivery-access';
import { regionParam } from '../../domain/delivery/regions';
import { clampExpiry } from '../../domain/visibility';
import type { Cdn } from './cdn';

export interface SecureLinkCdnSettings {
  /** DELIVERY_BASE_URL: the edge (nginx), or the API's /origin when clients may reach it directly. */
  baseUrl: string;
  signingSecret: string;
  ttlSeconds: number;
  /** CDN_PURGE_URL: unset means purge has nothing to do (our nginx edge caches nothing). */
  purgeUrl?: string | undefined;
  logger: Logger;
  timeoutMs?: number;
}

/** An nginx secure_link edge (devstack/nginx.ts): md5 + expires tokens scoped to the asset's `/d/<id>/` prefix. */
export class SecureLinkCdn implements Cdn {
  private readonly baseUrl: string;
  private readonly timeoutMs: number;

  constructor(private readonly settings: SecureLinkCdnSettings) {
    this.baseUrl = settings.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = settings.timeoutMs ?? 5000;
  }

  deliveryUrl(assetId: string, path: string, access: DeliveryAccess): string {
    if (servesUnsigned(access)) return `${this.baseUrl}${publicPrefix(assetId)}${path}`;
    const expires = clampExpiry(Math.floor(Date.now() / 1000) + this.settings.ttlSeconds, access.notAfter);
    const geo = regionParam(access.regions);
    const query = queryString(signQuery(assetId, expires, this.settings.signingSecret, geo));
    return `${this.baseUrl}${signedPrefix(assetId)}${path}?${query}`;
  }

  warmUrl(assetId: string, path: string, access: DeliveryAccess): string {
    if (!servesUnsigned(access)) return this.deliveryUrl(assetId, path, access);
    const expires = Math.floor(Date.now() / 1000) + this.settings.ttlSeconds;
    const query = queryString(signQuery(assetId, expires, this.settings.signingSecret));
    return `${this.baseUrl}${publicPrefix(assetId)}${path}?${query}`;
  }

  /**
   * `PURGE <CDN_PURGE_URL>/d/<id>/*` and `.../p/<id>/*` (the prefix-purge form of ngx_cache_purge, Varnish and most
   * CDNs' purge endpoints); 404 means nothing was cached. Anything else throws, so the calling activity retries.
   */
  async purge(assetId: string): Promise<void> {
    const { purgeUrl, logger } = this.settings;
    if (!purgeUrl) {
      logger.debug({ assetId }, 'CDN purge skipped: no CDN_PURGE_URL, and the nginx edge caches nothing');
      return;
    }
    for (const prefix of [signedPrefix(assetId), publicPrefix(assetId)]) {
      const target = `${purgeUrl.replace(/\/+$/, '')}${prefix}*`;
      const res = await fetch(target, { method: 'PURGE', signal: AbortSignal.timeout(this.timeoutMs) });
      await res.body?.cancel();
      if (!res.ok && res.status !== 404) throw new Error(`CDN purge ${target} answered ${res.status}`);
    }
  }

  async warm(urls: string[]): Promise<void> {
    await Promise.all(
      urls.map(async (url) => {
        try {
          const res = await fetch(url, { signal: AbortSignal.timeout(this.timeoutMs) });
          // Read to the end without keeping it: an edge caches a response only once it has all of it.
          if (res.body) for await (const _ of res.body);
          if (!res.ok) this.settings.logger.warn({ url: redact(url), status: res.status }, 'CDN warm failed');
        } catch (err) {
          this.settings.logger.warn({ url: redact(url), err: (err as Error).message }, 'CDN warm failed');
        }
      }),
    );
  }
}

/** The API's and the worker's CDN, from the delivery section of the configuration. */
export function cdnFromConfig(config: ConfigOf<'delivery'>, logger: Logger): SecureLinkCdn {
  return new SecureLinkCdn({
    baseUrl: config.DELIVERY_BASE_URL,
    signingSecret: config.DELIVERY_SIGNING_SECRET,
    ttlSeconds: config.DELIVERY_URL_TTL_SECONDS,
    purgeUrl: config.CDN_PURGE_URL,
    logger,
  });
}

/** Tokens stay out of the logs. */
const redact = (url: string) => url.replace(/([?&]md5=)[^&]*/, '$1…');
