import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * `Assetline-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`. The timestamp is signed
 * with the body, so a receiver that rejects old timestamps cannot be fed a captured delivery later.
 */

export const SIGNATURE_HEADER = 'Assetline-Signature';
export const EVENT_ID_HEADER = 'Assetline-Event-Id';
export const DEFAULT_TOLERANCE_SECONDS = 5 * 60;

const digest = (secret: string, timestamp: number, body: string | Buffer): Buffer =>
  createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest();

export function sign(secret: string, body: string | Buffer, timestampSeconds: number): string {
  return `t=${timestampSeconds},v1=${digest(secret, timestampSeconds, body).toString('hex')}`;
}

export type Verification = { ok: true; timestamp: number } | { ok: false; reason: string };

/** Checks a header against the raw body as received; any of several v1 values may match (key rotation). */
export function verify(
  secret: string,
  body: string | Buffer,
  header: string | undefined,
  opts: { nowSeconds?: number; toleranceSeconds?: number } = {},
): Verification {
  if (!header) return { ok: false, reason: 'no signature header' };
  const parts = header.split(',').map((part) => {
    const eq = part.indexOf('=');
    return eq === -1 ? ['', ''] : [part.slice(0, eq).trim(), part.slice(eq + 1).trim()];
  });
  const timestamps = parts.filter(([k]) => k === 't').map(([, v]) => v ?? '');
  const signatures = parts.filter(([k]) => k === 'v1').map(([, v]) => v ?? '');
  if (timestamps.length !== 1 || !/^\d{1,12}$/.test(timestamps[0]!)) {
    return { ok: false, reason: 'no valid timestamp' };
  }
  const timestamp = Number(timestamps[0]);
  const now = opts.nowSeconds ?? Math.floor(Date.now() / 1000);
  const tolerance = opts.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (Math.abs(now - timestamp) > tolerance) {
    return { ok: false, reason: `timestamp is more than ${tolerance} s away from now` };
  }
  const expected = digest(secret, timestamp, body);
  const matches = signatures.some((hex) => {
    if (!/^[0-9a-f]{64}$/i.test(hex)) return false;
    return timingSafeEqual(Buffer.from(hex, 'hex'), expected);
  });
  return matches ? { ok: true, timestamp } : { ok: false, reason: 'no matching v1 signature' };
}
