import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  API_SECTIONS,
  WORKER_SECTIONS,
  configVariables,
  loadConfig,
  type SectionName,
} from '../shared/config';

/**
 * Static checks of docker-compose.yml and the Dockerfile against the config module, so a renamed variable, a
 * typo or a missing service shows up here rather than when someone runs the stack (Docker is not needed).
 */

const repoPath = (relative: string): string => fileURLToPath(new URL(`../${relative}`, import.meta.url));
const COMPOSE_PATH = fileURLToPath(new URL('../docker-compose.yml', import.meta.url));

type Environment = Record<string, string | number | boolean | null> | string[];
interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Environment;
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string | string[]; disable?: boolean };
}
interface ComposeFile {
  services?: Record<string, Service>;
}

// Compose supports YAML merge keys (`<<: *anchor`); the yaml package needs them switched on.
const compose = parse(fs.readFileSync(COMPOSE_PATH, 'utf8'), { merge: true }) as ComposeFile;
const services: Record<string, Service> = compose.services ?? {};

function service(name: string): Service {
  const found = services[name];
  if (!found) throw new Error(`docker-compose.yml has no service "${name}"`);
  return found;
}

/** The service's environment as name -> raw value (before `${...}` interpolation). */
function rawEnvironment(svc: Service): Map<string, string> {
  const env = new Map<string, string>();
  if (Array.isArray(svc.environment)) {
    for (const entry of svc.environment) {
      const eq = entry.indexOf('=');
      // `- NAME` without a value passes the host's variable through; treat it as empty here.
      if (eq === -1) env.set(entry, '');
      else env.set(entry.slice(0, eq), entry.slice(eq + 1));
    }
  } else {
    for (const [name, value] of Object.entries(svc.environment ?? {}))
      env.set(name, value == null ? '' : String(value));
  }
  return env;
}

/**
 * Compose interpolation with an empty host environment: `${VAR:-default}` / `${VAR-default}` take the default,
 * `${VAR}` / `$VAR` become empty, `$$` is a literal `$`, and `${VAR:?message}` fails (the host must set it).
 */
function interpolate(value: string): string {
  return value.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (match, name: string | undefined, op: string | undefined, arg: string | undefined) => {
      if (match === '$$') return '$';
      if (op === ':-' || op === '-') return arg ?? '';
      if (op === ':?' || op === '?') throw new Error(`\${${name}} must be set on the host: ${arg ?? ''}`);
      return '';
    },
  );
}

function environment(svc: Service): Record<string, string> {
  return Object.fromEntries([...rawEnvironment(svc)].map(([name, value]) => [name, interpolate(value)]));
}

function dependencies(svc: Service): [string, string | undefined][] {
  if (Array.isArray(svc.depends_on)) return svc.depends_on.map((name) => [name, undefined]);
  return Object.entries(svc.depends_on ?? {}).map(([name, spec]) => [name, spec?.condition]);
}

function words(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : value.split(/\s+/).filter(Boolean);
}

/** Host part of `host:port` or of a URL. */
function hostOf(address: string): string {
  return address.includes('://') ? new URL(address).hostname : (address.split(':')[0] ?? '');
}

const variables = configVariables();
const known = new Set(variables.map((v) => v.name));
const sectionsOf = (sections: readonly SectionName[]) =>
  variables.filter((v) => sections.includes(v.section));
const apiOnlySections: readonly SectionName[] = API_SECTIONS.filter(
  (s) => !(WORKER_SECTIONS as readonly SectionName[]).includes(s),
);

const s3ServiceName = Object.keys(services).find((name) =>
  /versitygw|minio/.test(services[name]?.image ?? ''),
);

// Dockerfile: instructions with line continuations joined, comments dropped.
const DOCKERFILE_PATH = repoPath('Dockerfile');
const dockerfileInstructions: string[] = fs.existsSync(DOCKERFILE_PATH)
  ? fs
      .readFileSync(DOCKERFILE_PATH, 'utf8')
      .replace(/\\\r?\n/g, ' ')
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'))
  : [];

/** The image's default command: the last CMD (exec form or shell form). */
function dockerfileCmd(): string[] {
  const cmd = dockerfileInstructions.filter((line) => /^CMD\s/i.test(line)).at(-1);
  if (!cmd) return [];
  const args = cmd.replace(/^CMD\s+/i, '');
  return args.startsWith('[') ? (JSON.parse(args) as string[]) : words(args);
}

/** Top-level directories the final stage copies from the build context. */
function copiedFromContext(): string[] {
  const lastFrom = dockerfileInstructions.findLastIndex((line) => /^FROM\s/i.test(line));
  return dockerfileInstructions
    .slice(lastFrom + 1)
    .filter((line) => /^COPY\s/i.test(line) && !/--from=/i.test(line))
    .flatMap((line) =>
      words(line.replace(/^COPY\s+/i, ''))
        .filter((w) => !w.startsWith('--'))
        .slice(0, -1),
    )
    .map((source) => source.replace(/^\.\//, '').replace(/\/$/, ''));
}

/** The TypeScript entry point a command runs (`node --import tsx api/main.ts`, `npx tsx worker/main.ts`). */
function entryPoint(command: string[]): string | undefined {
  return command.find((word) => /\.(ts|mts|js|mjs)$/.test(word));
}

describe('docker-compose.yml', () => {
  it('defines the stack: Postgres, Temporal, its UI, an S3 server, the API and the worker', () => {
    for (const name of ['postgres', 'temporal', 'temporal-ui', 'api', 'worker']) {
      expect(services, `service ${name}`).toHaveProperty([name]);
    }
    expect(s3ServiceName, 'a service running an S3 server image (versitygw or minio)').toBeDefined();
    expect(service('temporal').image).toMatch(/^temporalio\/(server|auto-setup):/);
  });

  describe.each([
    ['api', API_SECTIONS],
    ['worker', WORKER_SECTIONS],
  ] as const)('%s environment', (name, processSections) => {
    const sections: readonly SectionName[] = processSections;
    it('sets every required variable of its config sections', () => {
      const env = environment(service(name));
      const missing = sectionsOf(sections)
        .filter((v) => v.required && !env[v.name])
        .map((v) => v.name);
      expect(missing).toEqual([]);
    });

    it('has no variable the config module does not know (typos)', () => {
      const unknown = [...rawEnvironment(service(name)).keys()].filter((v) => !known.has(v));
      expect(unknown).toEqual([]);
    });

    it('only has variables of the sections the process reads, with values the config accepts', () => {
      const env = environment(service(name));
      const foreign = variables
        .filter((v) => v.name in env && !sections.includes(v.section))
        .map((v) => v.name);
      expect(foreign).toEqual([]);
      // With the compose defaults (no host variables set) the process must start, not exit on bad config.
      expect(() => loadConfig(sections, env)).not.toThrow();
    });

    it('reaches Postgres, S3 and Temporal by the names of services in this file', () => {
      const env = environment(service(name));
      for (const variable of ['DATABASE_URL', 'S3_ENDPOINT', 'TEMPORAL_ADDRESS']) {
        const value = env[variable];
        expect(value, variable).toBeTruthy();
        expect(services, `${variable}=${value}`).toHaveProperty([hostOf(value ?? '')]);
      }
      expect(hostOf(env.S3_ENDPOINT ?? '')).toBe(s3ServiceName);
    });
  });

  it('does not give the worker API-only variables', () => {
    const env = rawEnvironment(service('worker'));
    const apiOnly = variables
      .filter((v) => apiOnlySections.includes(v.section) && env.has(v.name))
      .map((v) => v.name);
    expect(apiOnlySections.length).toBeGreaterThan(0);
    expect(apiOnly).toEqual([]);
  });

  it('builds the API and the worker from the Dockerfile, whose entry points exist', () => {
    expect(fs.existsSync(DOCKERFILE_PATH), 'Dockerfile').toBe(true);
    for (const name of ['api', 'worker']) {
      const build = service(name).build;
      const context = typeof build === 'string' ? build : build?.context;
      const dockerfile = (typeof build === 'object' ? build.dockerfile : undefined) ?? 'Dockerfile';
      expect(context, `${name} build context`).toBeDefined();
      expect(path.resolve(path.dirname(COMPOSE_PATH), context ?? '', dockerfile), name).toBe(DOCKERFILE_PATH);
    }

    const copied = copiedFromContext();
    const expectEntry = (label: string, command: string[], expected: string) => {
      const entry = entryPoint(command);
      expect(entry, `${label}: ${command.join(' ')}`).toBe(expected);
      expect(fs.existsSync(repoPath(expected)), expected).toBe(true);
      expect(copied, `the Dockerfile copies ${expected.split('/')[0]}/ into the image`).toContain(
        expected.split('/')[0],
      );
    };
    // The image's default command is the API; the API service keeps it, the worker overrides it.
    expectEntry('Dockerfile CMD', dockerfileCmd(), 'api/main.ts');
    const apiCommand = words(service('api').command);
    if (apiCommand.length > 0) expectEntry('api command', apiCommand, 'api/main.ts');
    expectEntry('worker command', words(service('worker').command), 'worker/main.ts');
  });

  it('depends only on defined services, and waits for health only where a healthcheck exists', () => {
    for (const [name, svc] of Object.entries(services)) {
      for (const [target, condition] of dependencies(svc)) {
        expect(services, `${name} depends on ${target}`).toHaveProperty([target]);
        if (condition === 'service_healthy') {
          const check = services[target]?.healthcheck;
          expect(
            check?.test && !check.disable,
            `${target} needs a healthcheck for ${name} to wait on`,
          ).toBeTruthy();
        }
      }
    }
    for (const name of ['api', 'worker']) {
      const targets = dependencies(service(name)).map(([target]) => target);
      expect(targets, name).toEqual(expect.arrayContaining(['postgres']));
    }
  });

  it('points the Temporal UI at the Temporal service', () => {
    const address = environment(service('temporal-ui')).TEMPORAL_ADDRESS ?? '';
    expect(address).toMatch(/^[^:\s]+:\d+$/);
    expect(hostOf(address)).toBe('temporal');
    expect(address).toBe(environment(service('api')).TEMPORAL_ADDRESS);
    expect(dependencies(service('temporal-ui')).map(([target]) => target)).toContain('temporal');
  });
});
