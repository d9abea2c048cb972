import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Reader, type CountryResponse } from 'mmdb-lib';
import { describe, expect, it } from 'vitest';
import { ViewerCountry } from '../api/viewer-country';
import { COUNTRY_CODE, policyOf, regionsBody } from '../api/region-schema';
import { MmdbCountryLookup } from '../infra/adapters/geoip-country';
import { parseCidr } from '../infra/config/parsers';
import { geoHttpConfig, geoMainConfig } from '../devstack/nginx-geo';
import { countryRecord, writeMmdb } from './helpers/mmdb-writer';

/** The pure parts of regional rights; test/regional-rights.test.ts runs them through nginx and the API. */

const database = writeMmdb({
  '127.0.0.2/32': countryRecord('DE', 'Germany'),
  '127.0.0.3': countryRecord('US', 'U'.repeat(100)), // a one-byte extended size
  '10.1.0.0/16': countryRecord('FR', 'F'.repeat(300)), // a name long enough for a two-byte size
  '2001:db8::/32': countryRecord('JP'),
  '198.51.100.7/32': { country: { iso_code: 'zz' } }, // not a country: unknown
});

describe('the test MaxMind DB writer', () => {
  it('writes what mmdb-lib reads back: IPv4 under ::/96, IPv6, long strings, misses', () => {
    const reader = new Reader<CountryResponse>(database);
    expect(reader.metadata).toMatchObject({ ipVersion: 6, recordSize: 24, binaryFormatMajorVersion: 2 });
    expect(reader.get('127.0.0.2')?.country?.names?.en).toBe('Germany');
    expect(reader.get('127.0.0.3')?.country?.names?.en).toBe('U'.repeat(100));
    expect(reader.get('10.1.200.3')?.country?.names?.en).toBe('F'.repeat(300));
    expect(reader.get('10.2.0.1')).toBeNull();
    expect(reader.get('2001:db8:1::5')?.country?.iso_code).toBe('JP');
    expect(reader.get('127.0.0.5')).toBeNull();
  });

  it('refuses overlapping networks', () => {
    expect(() => writeMmdb({ '10.0.0.0/8': 'a', '10.1.0.0/16': 'b' })).toThrow(/overlaps/);
  });
});

describe('MmdbCountryLookup', () => {
  const lookup = MmdbCountryLookup.fromBuffer(database);

  it('answers a country code, undefined for the unknown', () => {
    expect(lookup.country('127.0.0.2')).toBe('DE');
    expect(lookup.country('::ffff:127.0.0.3')).toBe('US'); // a dual-stack socket's IPv4 peer
    expect(lookup.country('2001:db8::1')).toBe('JP');
    expect(lookup.country('127.0.0.5')).toBeUndefined();
    expect(lookup.country('198.51.100.7')).toBeUndefined();
    expect(lookup.country('not an address')).toBeUndefined();
  });

  it('stops the API at start on a missing or foreign file, naming GEOIP_DATABASE', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'geoip-'));
    const junk = path.join(dir, 'junk.mmdb');
    await fs.writeFile(junk, 'not a database');
    expect(() => MmdbCountryLookup.open(path.join(dir, 'missing.mmdb'))).toThrow(
      /GEOIP_DATABASE .*cannot be read/,
    );
    expect(() => MmdbCountryLookup.open(junk)).toThrow(/GEOIP_DATABASE .*not a MaxMind DB/);
    await fs.rm(dir, { recursive: true });
  });
});

describe('ViewerCountry', () => {
  const viewer = new ViewerCountry({
    trustedProxies: ['127.0.0.1/32', '::1/128', '10.9.0.0/16'].map((c) => parseCidr(c)!),
    countryHeader: 'CF-IPCountry',
    lookup: MmdbCountryLookup.fromBuffer(database),
  });
  const from = (remoteAddress: string, headers: Record<string, string> = {}) =>
    viewer.of({ socket: { remoteAddress }, headers } as never);

  it("believes a trusted proxy's header (the edge's first), in upper case only", () => {
    expect(from('127.0.0.1', { 'cf-ipcountry': 'DE' })).toBe('DE');
    expect(from('::ffff:127.0.0.1', { 'cf-ipcountry': 'FR' })).toBe('FR');
    expect(from('::1', { 'x-viewer-country': 'US', 'cf-ipcountry': 'DE' })).toBe('US');
    expect(from('10.9.3.4', { 'cf-ipcountry': 'JP' })).toBe('JP');
    expect(from('127.0.0.1', { 'cf-ipcountry': 'de' })).toBeUndefined();
    expect(from('127.0.0.1', { 'cf-ipcountry': 'XX' })).toBeUndefined();
    // A trusted proxy naming nobody: its own address says nothing about the viewer.
    expect(from('127.0.0.1')).toBeUndefined();
  });

  it('looks anyone else up by peer address, whatever headers they send', () => {
    const claims = { 'cf-ipcountry': 'DE', 'x-viewer-country': 'DE', 'x-forwarded-for': '127.0.0.2' };
    expect(from('127.0.0.3', claims)).toBe('US');
    expect(from('127.0.0.5', claims)).toBeUndefined();
    expect(from('127.0.0.2')).toBe('DE');
  });

  it('knows nobody without a database', () => {
    const blind = new ViewerCountry({ trustedProxies: [], countryHeader: 'CF-IPCountry' });
    expect(blind.of({ socket: { remoteAddress: '127.0.0.2' }, headers: {} } as never)).toBeUndefined();
  });
});

describe('the policy body', () => {
  it('takes any case, stores upper case, de-duplicated and sorted', () => {
    const body = regionsBody.parse({ allow: ['fr', 'DE', 'De', 'xk'] });
    expect(policyOf(body)).toEqual({ mode: 'allow', countries: ['DE', 'FR', 'XK'] });
    expect(policyOf(regionsBody.parse({ block: ['ru'] }))).toEqual({ mode: 'block', countries: ['RU'] });
    expect(policyOf(regionsBody.parse({}))).toBeNull();
  });

  it("states ISO 3166-1's codes exactly, in any case", () => {
    for (const ok of ['DE', 'de', 'dE', 'XK', 'AQ']) expect(COUNTRY_CODE.test(ok), ok).toBe(true);
    for (const bad of ['ZZ', 'UK', 'EU', 'D', 'DEU', ' DE', ''])
      expect(COUNTRY_CODE.test(bad), bad).toBe(false);
  });
});

describe('the edge configuration', () => {
  it('refuses what would break the nginx config', () => {
    expect(() => geoHttpConfig({ countryHeader: 'CF IPCountry' })).toThrow(/header/);
    expect(() => geoHttpConfig({ trustedProxies: ['10.0.0.0/8; deny all'] })).toThrow(/CIDR/);
    expect(() => geoHttpConfig({ databasePath: '/tmp/a b.mmdb' })).toThrow(/path/);
    expect(() => geoMainConfig({ databasePath: '/x.mmdb', modulePath: '/nowhere/geoip2.so' })).toThrow(
      /provision/,
    );
  });

  it('loads the geoip2 module only with a database', () => {
    expect(geoMainConfig({})).toBe('');
    expect(geoHttpConfig({})).not.toContain('geoip2');
    expect(geoHttpConfig({ databasePath: '/data/country.mmdb' })).toContain('geoip2 /data/country.mmdb {');
  });
});
