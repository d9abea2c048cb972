import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { nginxConfig } from '../devstack/nginx';
import {
  compose,
  COMPOSE_PATH,
  DOCKERFILE_PATH,
  copiedFromContext,
  dependencies,
  dockerfileCmd,
  dockerfileInstructions,
  dockerfileStage,
  EDGE_GEOIP,
  entryPoint,
  environment,
  finalStage,
  hostOf,
  interpolate,
  mountedConfig,
  nginxBlock,
  publishedPorts,
  rawEnvironment,
  repoPath,
  service,
  services,
  volumeMounts,
  words,
} from './helpers/compose-file';
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

const WORKERS = ['worker-io', 'worker-media'] as const;

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
  });

  it("runs the edge on Debian's nginx with its geoip2 module, the entry point writing the GeoIP lookup", () => {
    const build = service('edge').build;
    expect(typeof build === 'object' ? build : {}).toMatchObject({
      dockerfile: 'Dockerfile',
      target: 'edge',
    });
    const stage = dockerfileStage('edge');
    expect(dockerfileInstructions.find((line) => / AS edge$/i.test(line))).toMatch(/^FROM debian:bookworm/);
    const installs = stage.filter((line) => /^RUN\s/i.test(line)).join(' ');
    for (const pkg of ['nginx-light', 'libnginx-mod-http-geoip2']) expect(installs).toContain(` ${pkg}`);
    // The runtime image stays the default target: the API and the workers build without one.
    expect(dockerfileInstructions.findLastIndex((line) => /^FROM\s/i.test(line))).toBe(
      dockerfileInstructions.findIndex((line) => /^FROM\s.* AS runtime$/i.test(line)),
    );
    const copy = stage.find((line) => /^COPY\s/i.test(line)) ?? '';
    const [script, target] = words(copy.replace(/^COPY\s+/i, ''));
    expect(fs.existsSync(repoPath(script ?? '')), `${script} exists`).toBe(true);
    const entry = stage.find((line) => /^ENTRYPOINT\s/i.test(line))?.replace(/^ENTRYPOINT\s+/i, '') ?? '[]';
    expect(JSON.parse(entry)).toEqual(['sh', target]);
    // The directory the entry point looks in is the one compose mounts GEOIP_DIR at.
    expect(volumeMounts(service('edge')).get(EDGE_GEOIP.dir)).toBe('./geoip');
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
    // As devstack with a database: the map falls back to $geoip2_country, which the entry point's include defines.
    const expected = nginxConfig({
      dataDir: '/unused',
      port,
      origin: new URL(`http://api:${api.PORT}`),
      signingSecret: api.DELIVERY_SIGNING_SECRET ?? '',
      geo: { databasePath: `${EDGE_GEOIP.dir}/country.mmdb` },
    });
    expect(conf).toContain(`include ${EDGE_GEOIP.conf};`);
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

  it("believes the edge's X-Viewer-Country from the edge's fixed address alone", () => {
    const networks = service('edge').networks;
    const address = interpolate((!Array.isArray(networks) && networks?.default?.ipv4_address) || '');
    const ipam = compose.networks?.default?.ipam?.config?.[0] ?? {};
    expect(environment(service('api')).GEO_TRUSTED_PROXIES).toBe(`${address}/32`);
    const within = (cidr: string) => {
      const [base = '', prefix = ''] = interpolate(cidr).split('/');
      const list = new net.BlockList();
      list.addSubnet(base, Number(prefix), 'ipv4');
      return list.check(address, 'ipv4');
    };
    expect(within(ipam.subnet ?? ''), `${address} in the subnet`).toBe(true);
    // Outside the range other containers are given addresses from (none can take it first), the gateway included:
    // clients reaching the API's port come through Docker's proxy from the gateway, and are never trusted.
    expect(within(ipam.ip_range ?? '0.0.0.0/0'), `${address} outside the dynamic range`).toBe(false);
    expect(address).not.toMatch(/\.1$/);
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
