import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sign, verify } from '../domain/webhooks/signature';
import { readmeVerifier } from './helpers/webhook-receiver';

const SECRET = 'a'.repeat(64);
const BODY = '{"eventId":"asset-1/run/1","type":"asset.transition","reason":"café ✓"}';
const NOW = 1_767_225_600;

describe('webhook signature', () => {
  it('is t=<seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>', () => {
    const expected = createHmac('sha256', SECRET).update(`${NOW}.${BODY}`, 'utf8').digest('hex');
    expect(sign(SECRET, BODY, NOW)).toBe(`t=${NOW},v1=${expected}`);
  });

  it('verifies its own signature, from a string or the raw bytes', () => {
    const header = sign(SECRET, BODY, NOW);
    expect(verify(SECRET, BODY, header, { nowSeconds: NOW })).toEqual({ ok: true, timestamp: NOW });
    expect(verify(SECRET, Buffer.from(BODY), header, { nowSeconds: NOW + 299 }).ok).toBe(true);
  });

  it('refuses a tampered body, a wrong secret and a forged timestamp', () => {
    const header = sign(SECRET, BODY, NOW);
    expect(verify(SECRET, BODY.replace('café', 'cafe'), header, { nowSeconds: NOW })).toMatchObject({
      ok: false,
      reason: 'no matching v1 signature',
    });
    expect(verify('b'.repeat(64), BODY, header, { nowSeconds: NOW }).ok).toBe(false);
    // The timestamp is signed too: moving it forward to pass the window breaks the signature.
    const moved = header.replace(`t=${NOW}`, `t=${NOW + 1000}`);
    expect(verify(SECRET, BODY, moved, { nowSeconds: NOW + 1000 }).ok).toBe(false);
  });

  it('refuses timestamps more than 5 minutes away, in either direction', () => {
    const old = sign(SECRET, BODY, NOW - 301);
    expect(verify(SECRET, BODY, old, { nowSeconds: NOW })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/300 s/),
    });
    expect(verify(SECRET, BODY, sign(SECRET, BODY, NOW + 301), { nowSeconds: NOW }).ok).toBe(false);
  });

  it.each([
    [undefined, 'no signature header'],
    ['', 'no signature header'],
    ['v1=abc', 'no valid timestamp'],
    [`t=${NOW}`, 'no matching v1 signature'],
    [`t=${NOW},t=${NOW},v1=${'0'.repeat(64)}`, 'no valid timestamp'],
    [`t=${NOW},v1=zz`, 'no matching v1 signature'],
  ])('refuses a malformed header %j', (header, reason) => {
    expect(verify(SECRET, BODY, header, { nowSeconds: NOW })).toEqual({ ok: false, reason });
  });

  it('accepts any matching v1 among several (key rotation)', () => {
    const good = sign(SECRET, BODY, NOW).split(',')[1];
    expect(verify(SECRET, BODY, `t=${NOW},v1=${'0'.repeat(64)},${good}`, { nowSeconds: NOW }).ok).toBe(true);
  });

  it("agrees with the README's verification snippet", () => {
    const readme = readmeVerifier();
    const now = Math.floor(Date.now() / 1000);
    expect(readme(SECRET, Buffer.from(BODY), sign(SECRET, BODY, now))).toBe(true);
    expect(readme(SECRET, Buffer.from(`${BODY} `), sign(SECRET, BODY, now))).toBe(false);
    expect(readme('b'.repeat(64), Buffer.from(BODY), sign(SECRET, BODY, now))).toBe(false);
    expect(readme(SECRET, Buffer.from(BODY), sign(SECRET, BODY, now - 301))).toBe(false);
    expect(readme(SECRET, Buffer.from(BODY), undefined)).toBe(false);
  });
});
