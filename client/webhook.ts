import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The receiver's side of `Assetline-Signature: t=<unix seconds>,v1=<hex>` (README "Verifying a delivery"): HMAC-
 * SHA256 keyed with the secret as given over `<t>.<raw body>`, any v1 may match (rotation), and a `t` further than
 * the tolerance from now is refused so a captured delivery cannot be replayed. Same algorithm as
 * domain/webhooks/signature.ts, kept free of server imports so the SDK stands alone.
 */
export function verifyWebhook(
  secret: string,
  rawBody: string | Uint8Array,
  signatureHeader: string | null | undefined,
  opts: { toleranceSeconds?: number; nowSeconds?: number } = {},
): boolean {
  const pairs = String(signatureHeader ?? '')
    .split(',')
    .map((part) => {
      const eq = part.indexOf('=');
      return eq === -1 ? ['', ''] : [part.slice(0, eq).trim(), part.slice(eq + 1).trim()];
    });
  const stamps = pairs.filter(([k]) => k === 't');
  if (stamps.length !== 1 || !/^\d{1,12}$/.test(stamps[0]![1]!)) return false;
  const t = Number(stamps[0]![1]);
  const now = opts.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - t) > (opts.toleranceSeconds ?? 300)) return false;
  const expected = createHmac('sha256', secret).update(`${t}.`).update(rawBody).digest();
  return pairs
    .filter(([k, v]) => k === 'v1' && /^[0-9a-f]{64}$/i.test(v ?? ''))
    .some(([, v]) => timingSafeEqual(Buffer.from(v!, 'hex'), expected));
}
