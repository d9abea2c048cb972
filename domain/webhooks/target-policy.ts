import { BlockList, isIP } from 'node:net';

/**
 * Where webhooks may point. The platform makes these requests from inside its own network, so a URL naming (or
 * resolving to) a loopback, private or link-local address would let any owner probe internal services or a cloud
 * metadata endpoint (SSRF). Those are refused unless WEBHOOK_ALLOW_PRIVATE_NETWORKS is set.
 */

export const MAX_WEBHOOK_URL_LENGTH = 2048;

/** Why a URL cannot be a webhook target, or undefined if its shape is fine. */
export function webhookUrlProblem(value: string): string | undefined {
  if (value.length > MAX_WEBHOOK_URL_LENGTH) return `must be at most ${MAX_WEBHOOK_URL_LENGTH} characters`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must be an http or https URL';
  // Credentials in the URL would be stored, listed and logged in clear; the signature authenticates instead.
  if (url.username || url.password) return 'must not contain credentials';
  if (!url.hostname) return 'must name a host';
  return undefined;
}

/** The URL's host as an address literal (IPv6 without brackets), or undefined for a DNS name. */
export function addressLiteral(url: URL): string | undefined {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return isIP(host) ? host : undefined;
}

const ranges: [kind: string, family: 'ipv4' | 'ipv6', network: string, prefix: number][] = [
  ['loopback', 'ipv4', '127.0.0.0', 8],
  ['loopback', 'ipv6', '::1', 128],
  ['unspecified', 'ipv4', '0.0.0.0', 8],
  ['unspecified', 'ipv6', '::', 128],
  ['private', 'ipv4', '10.0.0.0', 8],
  ['private', 'ipv4', '172.16.0.0', 12],
  ['private', 'ipv4', '192.168.0.0', 16],
  ['private', 'ipv4', '100.64.0.0', 10], // carrier-grade NAT: internal in practice
  ['private', 'ipv6', 'fc00::', 7], // unique local
  ['link-local', 'ipv4', '169.254.0.0', 16], // includes the cloud metadata endpoint 169.254.169.254
  ['link-local', 'ipv6', 'fe80::', 10],
  ['reserved', 'ipv4', '192.0.0.0', 24],
  ['reserved', 'ipv4', '198.18.0.0', 15],
  ['reserved', 'ipv4', '224.0.0.0', 4], // multicast
  ['reserved', 'ipv4', '240.0.0.0', 4], // reserved and broadcast
  ['reserved', 'ipv6', 'ff00::', 8], // multicast
];

// BlockList also matches IPv4-mapped IPv6 addresses (::ffff:127.0.0.1) against the IPv4 ranges.
const lists = new Map<string, BlockList>();
for (const [kind, family, network, prefix] of ranges) {
  const list = lists.get(kind) ?? new BlockList();
  list.addSubnet(network, prefix, family);
  lists.set(kind, list);
}

/** 'loopback', 'private', 'link-local', … if the address is not on the public internet; undefined if it is. */
export function nonPublicKind(address: string): string | undefined {
  const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
  for (const [kind, list] of lists) if (list.check(address, family)) return kind;
  return undefined;
}

export class TargetRefused extends Error {
  override name = 'TargetRefused';
}

/** Throws TargetRefused naming the first address of `host` that is not public. */
export function requirePublicAddresses(host: string, addresses: string[]): void {
  for (const address of addresses) {
    const kind = nonPublicKind(address);
    if (kind) {
      const shown = host === address ? address : `${host} (${address})`;
      const article = /^[aeiou]/.test(kind) ? 'an' : 'a';
      throw new TargetRefused(
        `${shown} is ${article} ${kind} address; webhooks must reach the public internet`,
      );
    }
  }
}
