import { z } from 'zod';
import { api, cache, uploads } from './config/api';
import { delivery, geo, tiering, webhooks } from './config/delivery';
import { local } from './config/local';
import { database, logging, s3, temporal } from './config/platform';
import { integrity, media, scanner, sweeps } from './config/worker';

/**
 * The one place that reads the environment. Each process asks for the sections it needs, so the worker does not
 * demand the API's JWT secret, and a wrong value stops the process with a message naming the variable. The
 * variables themselves are declared by area under infra/config/; this file is the door every process goes through.
 */

// configVariables() lists the variables in this order.
const sections = {
  database,
  s3,
  temporal,
  api,
  uploads,
  scanner,
  media,
  integrity,
  sweeps,
  webhooks,
  delivery,
  geo,
  cache,
  tiering,
  logging,
  local,
} as const;

type Sections = typeof sections;
export type SectionName = keyof Sections;
type SectionOutput<S extends SectionName> = z.output<z.ZodObject<Sections[S]>>;
export type ConfigOf<S extends SectionName> = { [K in S]: SectionOutput<K> }[S] extends never
  ? never
  : UnionToIntersection<{ [K in S]: SectionOutput<K> }[S]>;
type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void
  ? I
  : never;

export const API_SECTIONS = [
  'database',
  's3',
  'temporal',
  'api',
  'uploads',
  'webhooks',
  'delivery',
  'geo',
  'cache',
  'tiering',
  'logging',
] as const;
export const WORKER_SECTIONS = [
  'database',
  's3',
  'temporal',
  'uploads',
  'scanner',
  'media',
  'integrity',
  'sweeps',
  'webhooks',
  'delivery',
  'logging',
] as const;

export type ApiConfig = ConfigOf<(typeof API_SECTIONS)[number]>;
export type WorkerConfig = ConfigOf<(typeof WORKER_SECTIONS)[number]>;
export type AppConfig = ApiConfig & WorkerConfig;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Every variable the platform reads, with the section it belongs to: the README table and compose test use it. */
export function configVariables(): { name: string; section: SectionName; required: boolean }[] {
  return (Object.keys(sections) as SectionName[]).flatMap((section) =>
    Object.entries(sections[section]).map(([name, schema]) => ({
      name,
      section,
      required: !(schema as z.ZodType).safeParse(undefined).success,
    })),
  );
}

export function loadConfig<const S extends readonly SectionName[]>(
  wanted: S,
  env: NodeJS.ProcessEnv = process.env,
): ConfigOf<S[number]> {
  const shape = Object.assign({}, ...wanted.map((s) => sections[s])) as z.ZodRawShape;
  // Empty strings count as unset, as docker-compose writes `VAR=` for variables it passes through.
  const input = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = z.object(shape).safeParse(input);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => {
        const name = issue.path.join('.');
        const given = input[name];
        const message = given === undefined && issue.code === 'invalid_type' ? 'is required' : issue.message;
        return `${name} ${message}`;
      }),
    );
  }
  // A trigger that kills the worker must not be switched on in production by a stray variable.
  const marker = (result.data as Record<string, unknown>).ASSETLINE_TEST_POISON_MARKER;
  if (marker !== undefined && input.NODE_ENV !== 'test') {
    throw new ConfigError([
      'ASSETLINE_TEST_POISON_MARKER kills the worker on a marked input: it is accepted only with NODE_ENV=test',
    ]);
  }
  return result.data as ConfigOf<S[number]>;
}

/** For entry points: print the problems and stop, rather than failing later with a confusing error. */
export function loadConfigOrExit<const S extends readonly SectionName[]>(wanted: S): ConfigOf<S[number]> {
  try {
    return loadConfig(wanted);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
}
