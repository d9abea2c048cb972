import net from 'node:net';
import { z } from 'zod';

/** The parsers several sections share, so the same kind of value gets the same rule and the same message. */

/** Compose and shell users write booleans every which way; all of these mean what they say. */
export const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

export const positiveInt = z.coerce.number().int().positive();
export const tcpPort = z.coerce.number().int().min(1).max(65535);

/** Only the classes a read can be served from at once: GLACIER and DEEP_ARCHIVE would need a restore first. */
export const storageClass = z.enum([
  'STANDARD',
  'STANDARD_IA',
  'ONEZONE_IA',
  'INTELLIGENT_TIERING',
  'GLACIER_IR',
]);

export const bucketName = () =>
  z
    .string()
    .regex(
      /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
      'must be a valid S3 bucket name (3-63 lowercase characters)',
    );

/** A Temporal duration string, as schedules take them. */
export const duration = (example: string) =>
  z.string().regex(/^\d+(ms|s|m|h|d)$/, `must be a duration such as '${example}' or '30m'`);

export const url = (protocols: string[]) =>
  z.string().refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a URL with scheme ${protocols.join(' or ')}` },
  );

export interface Cidr {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** `10.0.0.0/8` or `2001:db8::/32`; a bare address is a single host (/32 or /128). Undefined when malformed. */
export function parseCidr(text: string): Cidr | undefined {
  const [address = '', prefixText, extra] = text.trim().split('/');
  const family = net.isIP(address);
  if (family === 0 || extra !== undefined) return undefined;
  const max = family === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!(prefix >= 0 && prefix <= max)) return undefined;
  return { address, prefix, family: family === 4 ? 'ipv4' : 'ipv6' };
}

/** A comma-separated list of CIDRs, or `none` (an empty variable counts as unset, so it cannot say that). */
export const cidrList = z.string().transform((v, ctx) => {
  if (v.trim() === 'none') return [];
  const entries = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const cidrs = entries.map(parseCidr);
  const bad = entries.filter((_, i) => !cidrs[i]);
  if (bad.length > 0) {
    ctx.addIssue({
      code: 'custom',
      message: `must be CIDRs such as 10.0.0.0/8 or ::1/128 (not ${bad.join(', ')})`,
    });
    return z.NEVER;
  }
  return cidrs as Cidr[];
});

/**
 * A comma-separated list of web origins (`https://app.example.com`, a port when not the scheme's), as a browser
 * sends them in `Origin`: no path, no trailing slash, so they compare as plain strings.
 */
export const originList = z.string().transform((v, ctx) => {
  const entries = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = entries.filter((e) => {
    try {
      const u = new URL(e);
      return !['http:', 'https:'].includes(u.protocol) || u.origin !== e;
    } catch {
      return true;
    }
  });
  if (bad.length > 0) {
    ctx.addIssue({
      code: 'custom',
      message: `must be origins such as https://app.example.com, without path or trailing slash (not ${bad.join(', ')})`,
    });
    return z.NEVER;
  }
  return entries;
});
