import fs from 'node:fs';
import net from 'node:net';
import { Reader, type CountryResponse } from 'mmdb-lib';
import { isCountryCode } from '../../domain/delivery/regions';

/** The country of an IP address, or undefined when the database does not know it. */
export interface CountryLookup {
  country(address: string): string | undefined;
}

/**
 * A MaxMind-format (GeoIP2/GeoLite2 Country or City) database, read into memory once: a Country database is a few
 * MB, and lookups then cost no I/O on the request path. mmdb-lib is the reader the `maxmind` package is built on,
 * without its file watching and LRU cache that we do not need.
 */
export class MmdbCountryLookup implements CountryLookup {
  private constructor(private readonly reader: Reader<CountryResponse>) {}

  /** Throws with the path in the message when the file is missing or not a MaxMind DB, so the API stops at start. */
  static open(path: string): MmdbCountryLookup {
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(path);
    } catch (err) {
      throw new Error(`GEOIP_DATABASE ${path} cannot be read: ${(err as Error).message}`);
    }
    return MmdbCountryLookup.fromBuffer(bytes, path);
  }

  static fromBuffer(bytes: Buffer, name = 'the GeoIP database'): MmdbCountryLookup {
    let reader: Reader<CountryResponse>;
    try {
      reader = new Reader<CountryResponse>(bytes);
    } catch (err) {
      throw new Error(`GEOIP_DATABASE ${name} is not a MaxMind DB file: ${(err as Error).message}`);
    }
    if (reader.metadata.ipVersion !== 6 && reader.metadata.ipVersion !== 4) {
      throw new Error(`GEOIP_DATABASE ${name} has ip_version ${reader.metadata.ipVersion}`);
    }
    return new MmdbCountryLookup(reader);
  }

  country(address: string): string | undefined {
    const ip = unmapIpv4(address);
    if (net.isIP(ip) === 0) return undefined;
    // An IPv6 address in an IPv4-only database is simply unknown.
    if (net.isIP(ip) === 6 && this.reader.metadata.ipVersion === 4) return undefined;
    const code = this.reader.get(ip)?.country?.iso_code?.toUpperCase();
    return code && isCountryCode(code) ? code : undefined;
  }
}

/** A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; the database (and our CIDRs) know them as a.b.c.d. */
export function unmapIpv4(address: string): string {
  const m = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return m ? m[1]! : address;
}
