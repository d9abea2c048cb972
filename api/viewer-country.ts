import net from 'node:net';
import type { Request } from 'express';
import type { Cidr } from '../infra/config/parsers';
import { MmdbCountryLookup, unmapIpv4, type CountryLookup } from '../infra/adapters/geoip-country';
import { isCountryCode } from '../domain/delivery/regions';

/** The header our nginx edge (devstack/nginx.ts) always sets, overwriting whatever the client sent. */
export const EDGE_COUNTRY_HEADER = 'x-viewer-country';

export interface ViewerCountrySettings {
  /** GEO_TRUSTED_PROXIES: peers whose country header is believed. */
  trustedProxies: Cidr[];
  /** GEO_COUNTRY_HEADER (e.g. CF-IPCountry); our edge's X-Viewer-Country is read too. */
  countryHeader: string;
  /** GEOIP_DATABASE, opened; absent, an untrusted peer's country is unknown. */
  lookup?: CountryLookup | undefined;
}

/**
 * The viewer's country (ISO 3166-1 alpha-2) or undefined when unknown. A header is only a claim, so it counts only
 * from a peer inside the trusted proxies (a client could send CF-IPCountry itself); anyone else is looked up by the
 * socket's peer address (never X-Forwarded-For, which the client writes too). A trusted proxy that names no
 * country leaves it unknown: looking up the proxy's own address would name the proxy's country, not the viewer's.
 */
export class ViewerCountry {
  private readonly trusted = new net.BlockList();
  private readonly headers: string[];

  constructor(private readonly settings: ViewerCountrySettings) {
    for (const c of settings.trustedProxies) this.trusted.addSubnet(c.address, c.prefix, c.family);
    this.headers = [EDGE_COUNTRY_HEADER, settings.countryHeader.toLowerCase()];
  }

  of(req: Pick<Request, 'headers' | 'socket'>): string | undefined {
    const peer = unmapIpv4(req.socket.remoteAddress ?? '');
    const family = net.isIP(peer);
    if (family === 0) return undefined;
    if (this.trusted.check(peer, family === 4 ? 'ipv4' : 'ipv6')) {
      for (const name of this.headers) {
        const value = req.headers[name];
        if (typeof value === 'string' && value.trim() !== '') return countryCode(value);
      }
      return undefined;
    }
    return this.settings.lookup?.country(peer);
  }
}

/**
 * Upper case only, as CDNs send it and as the edge's nginx map matches it (it cannot change case), so edge and
 * origin agree; `XX` (Cloudflare's "unknown"), `T1` (Tor) and anything else that is not a country is unknown.
 */
function countryCode(value: string): string | undefined {
  const code = value.trim();
  return isCountryCode(code) ? code : undefined;
}

/** Nothing is trusted and nothing looked up: every viewer is unknown. */
export const UNKNOWN_VIEWERS = new ViewerCountry({ trustedProxies: [], countryHeader: 'CF-IPCountry' });

/**
 * The viewer's country for this request, as the app it reached was configured to tell it (createApp installs the
 * resolver from ApiDeps.viewerCountry), so listings and the origin agree on who the viewer is.
 */
export function viewerCountry(req: Request): string | undefined {
  const resolver = (req.app.locals as { viewerCountry?: ViewerCountry }).viewerCountry ?? UNKNOWN_VIEWERS;
  return resolver.of(req);
}

/** From GEOIP_DATABASE and friends; the database is opened here, so a wrong path stops the API at start. */
export function viewerCountryFromConfig(config: {
  GEOIP_DATABASE?: string | undefined;
  GEO_TRUSTED_PROXIES: Cidr[];
  GEO_COUNTRY_HEADER: string;
}): ViewerCountry {
  return new ViewerCountry({
    trustedProxies: config.GEO_TRUSTED_PROXIES,
    countryHeader: config.GEO_COUNTRY_HEADER,
    lookup: config.GEOIP_DATABASE ? MmdbCountryLookup.open(config.GEOIP_DATABASE) : undefined,
  });
}
