import { describe, expect, it } from 'vitest';
import {
  queryString,
  secureLinkToken,
  signQuery,
  signedPrefix,
  verifySecureLink,
} from '../domain/delivery/secure-link';

const ID = '0b6f1c2e-1111-4222-8333-444455556666';
const SECRET = 's3cret-s3cret-s3cret';
const NOW = 1_700_000_000;
const PREFIX = signedPrefix(ID);

describe('secure link tokens', () => {
  it('is base64url(md5(expires + prefix + " " + secret)) without padding, as nginx secure_link_md5 computes', () => {
    // echo -n "2147483647/d/<id>/ s3cret-s3cret-s3cret" | openssl md5 -binary | base64 | tr +/ -_ | tr -d =
    expect(secureLinkToken(PREFIX, 2147483647, SECRET)).toBe('wlNDyOHm_n_-7jHLYcRADw');
    expect(signQuery(ID, 2147483647, SECRET)).toEqual({
      md5: 'wlNDyOHm_n_-7jHLYcRADw',
      expires: '2147483647',
    });
    expect(queryString(signQuery(ID, 2147483647, SECRET))).toBe(
      'md5=wlNDyOHm_n_-7jHLYcRADw&expires=2147483647',
    );
  });

  it('accepts a token until its expiry, then calls it expired', () => {
    const { md5, expires } = signQuery(ID, NOW + 60, SECRET);
    expect(verifySecureLink(PREFIX, md5, expires, SECRET, NOW)).toBe('valid');
    expect(verifySecureLink(PREFIX, md5, expires, SECRET, NOW + 60)).toBe('valid');
    expect(verifySecureLink(PREFIX, md5, expires, SECRET, NOW + 61)).toBe('expired');
    // nginx tolerates '=' padding after the 22 characters; so does the origin.
    expect(verifySecureLink(PREFIX, `${md5}==`, expires, SECRET, NOW)).toBe('valid');
  });

  it('refuses tampering: another expiry, asset, secret or token, and malformed input, whatever the expiry', () => {
    const { md5, expires } = signQuery(ID, NOW + 60, SECRET);
    const other = signedPrefix('0b6f1c2e-1111-4222-8333-444455556667');
    const flipped = `${md5[0] === 'A' ? 'B' : 'A'}${md5.slice(1)}`;
    for (const [prefix, token, exp, secret] of [
      [PREFIX, md5, String(NOW + 3600), SECRET], // extended expiry
      [other, md5, expires, SECRET], // the token of another asset
      [PREFIX, md5, expires, 'another-secret-entirely'],
      [PREFIX, flipped, expires, SECRET],
      [PREFIX, md5.slice(0, 21), expires, SECRET],
      [PREFIX, `${md5}A`, expires, SECRET],
      [PREFIX, md5.replace(/./, '+'), expires, SECRET], // not base64url
      [PREFIX, md5, '0', SECRET],
      [PREFIX, md5, `${expires}.0`, SECRET],
      [PREFIX, md5, ` ${expires}`, SECRET],
      [PREFIX, undefined, expires, SECRET],
      [PREFIX, md5, undefined, SECRET],
      [PREFIX, [md5, md5], expires, SECRET], // ?md5=a&md5=b
    ] as const) {
      expect(verifySecureLink(prefix, token, exp, secret, NOW), JSON.stringify([prefix, token, exp])).toBe(
        'invalid',
      );
    }
    // A wrong token stays 403 (invalid) even when long expired: expiry is only told to a correct signer.
    const stale = signQuery(ID, NOW - 60, SECRET);
    expect(verifySecureLink(PREFIX, flipped, stale.expires, SECRET, NOW)).toBe('invalid');
    expect(verifySecureLink(PREFIX, stale.md5, stale.expires, SECRET, NOW)).toBe('expired');
  });
});
