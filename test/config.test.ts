import { describe, expect, it } from 'vitest';
import {
  API_SECTIONS,
  ConfigError,
  WORKER_SECTIONS,
  configVariables,
  loadConfig,
  type SectionName,
} from '../infra/config';

const base = {
  DATABASE_URL: 'postgres://u@127.0.0.1:5432/db',
  S3_BUCKET: 'assets',
  S3_ACCESS_KEY_ID: 'k',
  S3_SECRET_ACCESS_KEY: 's',
  AUTH_JWT_SECRET: 'x'.repeat(32),
  DELIVERY_SIGNING_SECRET: 'd'.repeat(16),
};

function problems(env: Record<string, string>, sections: readonly SectionName[] = API_SECTIONS): string[] {
  try {
    loadConfig(sections, env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('config', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig(API_SECTIONS, base);
    expect(config).toMatchObject({
      PORT: 3000,
      UPLOAD_URL_TTL_SECONDS: 900,
      MAX_UPLOAD_BYTES: 5 * 1024 ** 3,
      TEMPORAL_ADDRESS: '127.0.0.1:7233',
      TEMPORAL_NAMESPACE: 'default',
      S3_REGION: 'us-east-1',
    });
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL must be a URL with scheme postgres: or postgresql:'],
    [{ S3_ENDPOINT: 'not a url' }, 'S3_ENDPOINT'],
    [{ S3_BUCKET: 'Bad_Bucket' }, 'S3_BUCKET must be a valid S3 bucket name'],
    [{ AUTH_JWT_SECRET: 'short' }, 'AUTH_JWT_SECRET must be at least 32 characters'],
    [{ UPLOAD_URL_TTL_SECONDS: '-1' }, 'UPLOAD_URL_TTL_SECONDS'],
    [{ MAX_UPLOAD_BYTES: '0' }, 'MAX_UPLOAD_BYTES'],
    [{ TEMPORAL_ADDRESS: 'localhost' }, 'TEMPORAL_ADDRESS must be host:port'],
    [{ DELIVERY_SIGNING_SECRET: 'short' }, 'DELIVERY_SIGNING_SECRET must be at least 16 characters'],
    [{ DELIVERY_SIGNING_SECRET: 'has$dollar-1234567' }, 'DELIVERY_SIGNING_SECRET must be letters, digits'],
    [{ DELIVERY_BASE_URL: 'ftp://edge' }, 'DELIVERY_BASE_URL'],
    [{ GEO_TRUSTED_PROXIES: '10.0.0.0/8,10.0.0.0/33' }, 'GEO_TRUSTED_PROXIES must be CIDRs such as'],
    [{ GEO_TRUSTED_PROXIES: 'edge.internal' }, 'GEO_TRUSTED_PROXIES must be CIDRs such as'],
    [{ GEO_COUNTRY_HEADER: 'CF IPCountry' }, 'GEO_COUNTRY_HEADER must be an HTTP header name'],
  ])('a wrong value names the variable: %j', (override, expected) => {
    const found = problems({ ...base, ...override });
    expect(found.join('\n')).toContain(expected);
  });

  it('reads GEO_TRUSTED_PROXIES as CIDRs, loopback by default, or none', () => {
    const proxies = (env: Record<string, string>) =>
      loadConfig(API_SECTIONS, { ...base, ...env }).GEO_TRUSTED_PROXIES;
    expect(proxies({})).toEqual([
      { address: '127.0.0.1', prefix: 32, family: 'ipv4' },
      { address: '::1', prefix: 128, family: 'ipv6' },
    ]);
    expect(proxies({ GEO_TRUSTED_PROXIES: '10.0.0.0/8, 2001:db8::/32,192.0.2.7' })).toEqual([
      { address: '10.0.0.0', prefix: 8, family: 'ipv4' },
      { address: '2001:db8::', prefix: 32, family: 'ipv6' },
      { address: '192.0.2.7', prefix: 32, family: 'ipv4' },
    ]);
    expect(proxies({ GEO_TRUSTED_PROXIES: 'none' })).toEqual([]);
  });

  it('names every missing required variable', () => {
    const found = problems({});
    for (const name of [
      'DATABASE_URL',
      'S3_BUCKET',
      'S3_ACCESS_KEY_ID',
      'S3_SECRET_ACCESS_KEY',
      'AUTH_JWT_SECRET',
    ]) {
      expect(found).toContain(`${name} is required`);
    }
  });

  it('does not ask the worker for API-only settings', () => {
    const { AUTH_JWT_SECRET: _, ...workerEnv } = base;
    expect(problems(workerEnv, WORKER_SECTIONS)).toEqual([]);
  });

  it('lists every variable, and the README documents each one', async () => {
    const { readFile } = await import('node:fs/promises');
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const names = configVariables().map((v) => v.name);
    expect(names).toEqual(
      expect.arrayContaining(['PORT', 'DATABASE_URL', 'S3_ENDPOINT', 'TEMPORAL_ADDRESS']),
    );
    for (const name of names) expect(readme, `README documents ${name}`).toContain(`| \`${name}\``);
  });
});
