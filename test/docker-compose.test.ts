import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { nginxConfig } from '../devstack/nginx';
import {
  API_SECTIONS,
  WORKER_SECTIONS,
  configVariables,
  loadConfig,
  type SectionName,
} from '../infra/config';

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
  ports?: (string | number | { published?: string | number; target?: string | number })[];
  volumes?: (string | { source?: string; target?: string })[];
  configs?: (string | { source: string; target?: string })[];
  cpus?: string | number;
  deploy?: { resources?: { limits?: { cpus?: string | number } } };
}
interface ComposeFile {
  services?: Record<string, Service>;
  configs?: Record<string, { content?: string }>;
  volumes?: Record<string, unknown>;
}

const WORKERS = ['worker-io', 'worker-media'] as const;

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

/** Ports a service publishes on the host (`[ip:]host:container[/proto]` or the long syntax). */
function publishedPorts(svc: Service): { host: string; container: string }[] {
  return (svc.ports ?? []).map((port) => {
    if (typeof port === 'object')
      return { host: String(port.published ?? ''), container: String(port.target) };
    const parts = (String(port).split('/')[0] ?? '').split(':');
    return { host: parts.length > 1 ? (parts.at(-2) ?? '') : '', container: parts.at(-1) ?? '' };
  });
}

/** Mount target -> volume name or host path. */
function volumeMounts(svc: Service): Map<string, string> {
  return new Map(
    (svc.volumes ?? []).map((v) => {
      if (typeof v === 'object') return [v.target ?? '', v.source ?? ''];
      const [source = '', target = ''] = v.split(':');
      return [target, source];
    }),
  );
}

/** The raw (uninterpolated) inline content of the top-level config the service mounts at target. */
function mountedConfig(name: string, target: string): string {
  const mount = (service(name).configs ?? []).find((c) => typeof c === 'object' && c.target === target);
  const content = typeof mount === 'object' ? compose.configs?.[mount.source]?.content : undefined;
  if (content === undefined) throw new Error(`${name} mounts no inline config at ${target}`);
  return content;
}

/** The nginx block that `opener` (ending in `{`) starts, with whitespace collapsed; '' when there is none. */
function nginxBlock(conf: string, opener: string): string {
  const start = conf.indexOf(opener);
  let depth = 0;
  for (let i = start + opener.length - 1; start !== -1 && i < conf.length; i++) {
    if (conf[i] === '{') depth++;
    else if (conf[i] === '}' && --depth === 0) return conf.slice(start, i + 1).replace(/\s+/g, ' ');
  }
  return '';
}

/** clamd.conf as option -> value. */
function clamdOptions(conf: string): Map<string, string> {
  const lines = conf.split('\n').map((line) => line.trim());
  return new Map(
    lines
      .filter((line) => line !== '' && !line.startsWith('#'))
      .map((line) => [line.split(/\s+/)[0] ?? '', line.split(/\s+/).slice(1).join(' ')]),
  );
}

/** A clamd.conf SIZE (`104857600`, `512K`, `400M`) in bytes. */
function clamdBytes(size: string | undefined): number {
  const m = /^(\d+)([kKmM]?)$/.exec(size ?? '');
  if (!m) return NaN;
  const unit = m[2]?.toUpperCase();
  return Number(m[1]) * (unit === 'M' ? 1024 ** 2 : unit === 'K' ? 1024 : 1);
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

/** The instructions of the final stage (after the last FROM). */
function finalStage(): string[] {
  const lastFrom = dockerfileInstructions.findLastIndex((line) => /^FROM\s/i.test(line));
  return dockerfileInstructions.slice(lastFrom + 1);
}

/** Top-level directories the final stage copies from the build context. */
function copiedFromContext(): string[] {
  return finalStage()
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
  it('defines the stack: Postgres, Temporal and its UI, S3, ClamAV, Redis, the API, the edge and both workers', () => {
    for (const name of [
      'postgres',
      'temporal',
      'temporal-ui',
      'clamav',
      'redis',
      'api',
      'edge',
      ...WORKERS,
    ]) {
      expect(services, `service ${name}`).toHaveProperty([name]);
    }
    expect(s3ServiceName, 'a service running an S3 server image (versitygw or minio)').toBeDefined();
    expect(service('temporal').image).toMatch(/^temporalio\/(server|auto-setup):/);
    expect(service('clamav').image).toMatch(/^clamav\/clamav(-debian)?:/);
    expect(service('redis').image).toMatch(/^redis:7/);
    expect(service('edge').image).toMatch(/^nginx:/);
  });

  describe.each([
    ['api', API_SECTIONS],
    ['worker-io', WORKER_SECTIONS],
    ['worker-media', WORKER_SECTIONS],
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

  it.each(WORKERS)('does not give %s API-only variables', (name) => {
    const env = rawEnvironment(service(name));
    const apiOnly = variables
      .filter((v) => apiOnlySections.includes(v.section) && env.has(v.name))
      .map((v) => v.name);
    expect(apiOnlySections.length).toBeGreaterThan(0);
    expect(apiOnly).toEqual([]);
  });

  it('splits the worker: worker-io polls the workflow (I/O) queue, worker-media the media queue', () => {
    const roles = (name: string) => loadConfig(WORKER_SECTIONS, environment(service(name))).WORKER_ROLES;
    expect(roles('worker-io')).toEqual(['io']);
    expect(roles('worker-media')).toEqual(['media']);
  });

  it('caps the media worker at a CPU limit, with no more media activities at a time than CPUs', () => {
    const svc = service('worker-media');
    const cpus = Number(svc.deploy?.resources?.limits?.cpus ?? svc.cpus);
    expect(cpus, 'deploy.resources.limits.cpus').toBeGreaterThan(0);
    // Set explicitly: inside a container Node counts the host's cores, which is MEDIA_CONCURRENCY's default.
    const concurrency = Number(rawEnvironment(svc).get('MEDIA_CONCURRENCY'));
    expect(concurrency, 'MEDIA_CONCURRENCY').toBeGreaterThan(0);
    expect(concurrency).toBeLessThanOrEqual(Math.ceil(cpus));
  });

  it("keeps the media worker's WORK_DIR on a named volume, created in the image for the node user", () => {
    const workDir = environment(service('worker-media')).WORK_DIR ?? '';
    expect(workDir, 'WORK_DIR').toMatch(/^\//);
    const volume = volumeMounts(service('worker-media')).get(workDir) ?? '';
    expect(compose.volumes ?? {}, `the volume mounted at ${workDir}`).toHaveProperty([volume]);
    // A new volume takes the owner of the directory it is mounted on; without it the volume is root's.
    const stage = finalStage();
    expect(
      stage.some((line) => /^RUN\s/i.test(line) && line.includes(workDir) && /\bnode\b/.test(line)),
    ).toBe(true);
    expect(stage).toContain('USER node');
  });

  it("scans with the clamav service, whose clamd.conf matches the workers' address and stream limit", () => {
    const raw = mountedConfig('clamav', '/etc/clamav/clamd.conf');
    const clamd = clamdOptions(interpolate(raw));
    for (const name of WORKERS) {
      const env = environment(service(name));
      expect(env.CLAMD_HOST, `${name} CLAMD_HOST`).toBe('clamav');
      expect(clamd.get('TCPSocket'), `${name} CLAMD_PORT`).toBe(env.CLAMD_PORT);
      // The same host variable in both places, so raising the limit raises both.
      expect(raw).toContain(`StreamMaxLength ${rawEnvironment(service(name)).get('CLAMD_MAX_STREAM_BYTES')}`);
      const stream = Number(env.CLAMD_MAX_STREAM_BYTES);
      expect(clamdBytes(clamd.get('StreamMaxLength'))).toBe(stream);
      // Nothing clamd accepts may go unscanned and be reported clean.
      expect(clamdBytes(clamd.get('MaxFileSize'))).toBeGreaterThanOrEqual(stream);
      expect(clamdBytes(clamd.get('MaxScanSize'))).toBeGreaterThanOrEqual(stream);
    }
    expect(clamd.get('AlertExceedsMax')).toBe('yes');
    // The image's entrypoint waits for this socket before it reports clamd started.
    expect(clamd.get('LocalSocket')).toBe('/tmp/clamd.sock');
    expect(compose.volumes ?? {}).toHaveProperty([
      volumeMounts(service('clamav')).get('/var/lib/clamav') ?? '',
    ]);
  });

  it("caches the API's asset records in the redis service", () => {
    const url = environment(service('api')).REDIS_URL ?? '';
    expect(url).toMatch(/^rediss?:\/\//);
    expect(hostOf(url)).toBe('redis');
    expect(dependencies(service('api'))).toContainEqual(['redis', 'service_healthy']);
  });

  it("delivers through the edge: devstack's nginx config, the API's secret, the API's origin", () => {
    const raw = mountedConfig('edge', '/etc/nginx/conf.d/default.conf');
    const api = environment(service('api'));
    // The same host variable (and default) as the API's, so the edge verifies what the API signs.
    expect(raw).toContain(rawEnvironment(service('api')).get('DELIVERY_SIGNING_SECRET'));
    const conf = interpolate(raw);
    const port = Number(/\blisten\s+(\d+);/.exec(conf)?.[1]);
    const expected = nginxConfig({
      dataDir: '/unused',
      port,
      origin: new URL(`http://api:${api.PORT}`),
      signingSecret: api.DELIVERY_SIGNING_SECRET ?? '',
    });
    const openers = (text: string) =>
      (text.match(/^\s*(map|upstream|location) [^{\n]*\{/gm) ?? []).map((o) => o.trim());
    expect(openers(conf).sort()).toEqual(openers(expected).sort());
    for (const opener of openers(expected)) {
      expect(nginxBlock(conf, opener), opener).toBe(nginxBlock(expected, opener));
    }
    expect(conf).toContain('secure_link_md5');
    expect(dependencies(service('edge')).map(([target]) => target)).toContain('api');

    // Clients get the edge's published address; workers, which warm renditions from inside, reach it by name.
    const published = publishedPorts(service('edge')).find((p) => p.container === String(port));
    expect(published, `edge publishes ${port}`).toBeDefined();
    expect(api.DELIVERY_BASE_URL).toBe(`http://localhost:${published?.host}`);
    for (const name of WORKERS) {
      expect(environment(service(name)).DELIVERY_BASE_URL, name).toBe(`http://edge:${port}`);
    }
  });

  it('publishes each host port once', () => {
    const hostPorts = Object.values(services)
      .flatMap((svc) => publishedPorts(svc))
      .map((p) => p.host);
    expect(hostPorts.length).toBeGreaterThan(0);
    expect(hostPorts).toEqual([...new Set(hostPorts)]);
  });

  it('builds the API and the workers from the Dockerfile, whose entry points exist', () => {
    expect(fs.existsSync(DOCKERFILE_PATH), 'Dockerfile').toBe(true);
    for (const name of ['api', ...WORKERS]) {
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
    // The image's default command is the API; the API service keeps it, the workers override it.
    expectEntry('Dockerfile CMD', dockerfileCmd(), 'api/main.ts');
    const apiCommand = words(service('api').command);
    if (apiCommand.length > 0) expectEntry('api command', apiCommand, 'api/main.ts');
    for (const name of WORKERS)
      expectEntry(`${name} command`, words(service(name).command), 'worker/main.ts');
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
    for (const name of ['api', ...WORKERS]) {
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
