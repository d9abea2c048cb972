import fs from 'node:fs';

/**
 * The edge's half of regional rights (domain/delivery/regions.ts; the origin's half is api/viewer-country.ts and
 * api/routes/origin.ts). The viewer's country is a trusted proxy's header when the peer is one (nginx `geo`), else
 * the peer address in a MaxMind database (Debian's libnginx-mod-http-geoip2), else unknown; the token's `geo`
 * parameter (bound into its md5) is matched against it before anything is proxied, and the origin is told the
 * country in X-Viewer-Country, overwritten on every request so no client can forge it.
 */
export interface EdgeGeoOptions {
  /** GEOIP_DATABASE; without one, only a trusted proxy's header locates a viewer. */
  databasePath?: string | undefined;
  /** GEO_TRUSTED_PROXIES as CIDRs; default loopback. */
  trustedProxies?: string[];
  /** GEO_COUNTRY_HEADER; default CF-IPCountry. X-Viewer-Country (another edge in front) is believed too. */
  countryHeader?: string;
  /** Default Debian's /usr/lib/nginx/modules/ngx_http_geoip2_module.so (or $NGINX_GEOIP2_MODULE). */
  modulePath?: string;
}

const DEFAULT_MODULE = '/usr/lib/nginx/modules/ngx_http_geoip2_module.so';
const HEADER = /^[A-Za-z0-9-]{1,64}$/;
const CIDR = /^[0-9A-Fa-f:.]+(\/\d{1,3})?$/;
// Written into the config unquoted or in double quotes: nothing that could end a directive.
const SAFE_PATH = /^\/[A-Za-z0-9_.~+/=-]+$/;

const headerVariable = (name: string) => `$http_${name.toLowerCase().replace(/-/g, '_')}`;

/** The geoip2 module's file: the given path, $NGINX_GEOIP2_MODULE or Debian's; it must exist. */
export function geoip2Module(modulePath?: string): string {
  const module = modulePath ?? process.env.NGINX_GEOIP2_MODULE ?? DEFAULT_MODULE;
  if (!SAFE_PATH.test(module) || !fs.existsSync(module)) {
    throw new Error(`nginx geoip2 module not found at ${module}: run bash scripts/provision.sh`);
  }
  return module;
}

/** `load_module` for the main context: only with a database (the module is a separate Debian package). */
export function geoMainConfig(geo: EdgeGeoOptions): string {
  if (!geo.databasePath) return '';
  return `load_module ${geoip2Module(geo.modulePath)};\n`;
}

/** The http-context part: $viewer_country, $geo_denied and what the 451 body names. */
export function geoHttpConfig(geo: EdgeGeoOptions): string {
  const header = geo.countryHeader ?? 'CF-IPCountry';
  const proxies = geo.trustedProxies ?? ['127.0.0.1/32', '::1/128'];
  if (!HEADER.test(header)) throw new Error(`nginx: ${header} is not a header name`);
  for (const p of proxies) if (!CIDR.test(p)) throw new Error(`nginx: ${p} is not a CIDR`);
  if (geo.databasePath && !SAFE_PATH.test(geo.databasePath)) {
    throw new Error(`nginx: GeoIP database path ${geo.databasePath} has characters nginx cannot take`);
  }
  const lookup = geo.databasePath
    ? `
  geoip2 ${geo.databasePath} {
    $geoip2_country country iso_code;
  }`
    : '';
  return String.raw`
  # Regional rights: where the viewer is (devstack/nginx-geo.ts).${lookup}
  geo $viewer_via_trusted_proxy {
    default 0;
${proxies.map((p) => `    ${p} 1;`).join('\n')}
  }
  # A trusted proxy's word (edge header first); anyone else is looked up; a trusted proxy saying nothing: unknown.
  map "$viewer_via_trusted_proxy|$http_x_viewer_country|${headerVariable(header)}" $viewer_country {
    "~^1\|([A-Z]{2})\|" $1;
    "~^1\|\|([A-Z]{2})$" $1;
    "~^1\|" "";
    default ${geo.databasePath ? '$geoip2_country' : '""'};
  }
  map $viewer_country $viewer_country_named {
    "" unknown;
    default $viewer_country;
  }
  # The token's policy (allow.DE.FR / block.RU, bound into its md5) against the country: membership is a
  # backreference from the country to one of the listed codes. No policy: nothing to refuse.
  map "$arg_geo|$viewer_country" $geo_denied {
    "~^\|" 0;
    "~^allow(\.[A-Z]{2})*\.([A-Z]{2})(\.[A-Z]{2})*\|\2$" 0;
    "~^block(\.[A-Z]{2})*\.([A-Z]{2})(\.[A-Z]{2})*\|\2$" 1;
    "~^block(\.[A-Z]{2})+\|" 0;
    default 1;
  }
  # The request as the problem's instance, when it holds nothing that could break the JSON around it.
  map $request_uri $problem_instance {
    "~^(?<safe_uri>[A-Za-z0-9/._~%&=?+-]*)$" $safe_uri;
    default $asset_prefix;
  }
`;
}

/** Inside `location /d/`, after the token checks: 451 with a problem+json body, before the origin is asked. */
export const geoRefusal = String.raw`
      if ($geo_denied) {
        return 451 '{"type":"about:blank","title":"Unavailable For Legal Reasons","status":451,"detail":"this asset is not available in the viewer\'s country ($viewer_country_named)","instance":"$problem_instance","country":"$viewer_country_named"}';
      }`;

/** For every proxied location: the origin learns the country from us alone. */
export function geoProxyHeaders(geo: EdgeGeoOptions): string {
  const header = geo.countryHeader ?? 'CF-IPCountry';
  const cleared = header.toLowerCase() === 'x-viewer-country' ? '' : `\n      proxy_set_header ${header} "";`;
  return `
      proxy_set_header X-Viewer-Country $viewer_country;${cleared}`;
}
