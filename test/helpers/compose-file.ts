import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

/** docker-compose.yml and the Dockerfile, parsed for the tests that check them (Docker is not needed). */

export const repoPath = (relative: string): string =>
  fileURLToPath(new URL(`../../${relative}`, import.meta.url));
export const COMPOSE_PATH = fileURLToPath(new URL('../../docker-compose.yml', import.meta.url));

export type Environment = Record<string, string | number | boolean | null> | string[];
export interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string; target?: string };
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
  networks?: string[] | Record<string, { ipv4_address?: string } | null>;
}
export interface ComposeFile {
  services?: Record<string, Service>;
  networks?: Record<string, { ipam?: { config?: { subnet?: string; ip_range?: string }[] } } | null>;
  configs?: Record<string, { content?: string }>;
  volumes?: Record<string, unknown>;
}

// Compose supports YAML merge keys (`<<: *anchor`); the yaml package needs them switched on.
export const compose = parse(fs.readFileSync(COMPOSE_PATH, 'utf8'), { merge: true }) as ComposeFile;
export const services: Record<string, Service> = compose.services ?? {};

export function service(name: string): Service {
  const found = services[name];
  if (!found) throw new Error(`docker-compose.yml has no service "${name}"`);
  return found;
}

/** The service's environment as name -> raw value (before `${...}` interpolation). */
export function rawEnvironment(svc: Service): Map<string, string> {
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
export function interpolate(value: string): string {
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

export function environment(svc: Service): Record<string, string> {
  return Object.fromEntries([...rawEnvironment(svc)].map(([name, value]) => [name, interpolate(value)]));
}

export function dependencies(svc: Service): [string, string | undefined][] {
  if (Array.isArray(svc.depends_on)) return svc.depends_on.map((name) => [name, undefined]);
  return Object.entries(svc.depends_on ?? {}).map(([name, spec]) => [name, spec?.condition]);
}

export function words(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : value.split(/\s+/).filter(Boolean);
}

/** Host part of `host:port` or of a URL. */
export function hostOf(address: string): string {
  return address.includes('://') ? new URL(address).hostname : (address.split(':')[0] ?? '');
}

/** Ports a service publishes on the host (`[ip:]host:container[/proto]` or the long syntax). */
export function publishedPorts(svc: Service): { host: string; container: string }[] {
  return (svc.ports ?? []).map((port) => {
    if (typeof port === 'object')
      return { host: String(port.published ?? ''), container: String(port.target) };
    const parts = (String(port).split('/')[0] ?? '').split(':');
    return { host: parts.length > 1 ? (parts.at(-2) ?? '') : '', container: parts.at(-1) ?? '' };
  });
}

/** Mount target -> volume name or host path. */
export function volumeMounts(svc: Service): Map<string, string> {
  return new Map(
    (svc.volumes ?? []).map((v) => {
      if (typeof v === 'object') return [v.target ?? '', v.source ?? ''];
      // Interpolated first: `${GEOIP_DIR:-./geoip}:/etc/…:ro` has colons of its own.
      const [source = '', target = ''] = interpolate(v).split(':');
      return [target, source];
    }),
  );
}

/** The raw (uninterpolated) inline content of the top-level config the service mounts at target. */
export function mountedConfig(name: string, target: string): string {
  const mount = (service(name).configs ?? []).find((c) => typeof c === 'object' && c.target === target);
  const content = typeof mount === 'object' ? compose.configs?.[mount.source]?.content : undefined;
  if (content === undefined) throw new Error(`${name} mounts no inline config at ${target}`);
  return content;
}

/** The nginx block that `opener` (ending in `{`) starts, with whitespace collapsed; '' when there is none. */
export function nginxBlock(conf: string, opener: string): string {
  const start = conf.indexOf(opener);
  let depth = 0;
  for (let i = start + opener.length - 1; start !== -1 && i < conf.length; i++) {
    if (conf[i] === '{') depth++;
    else if (conf[i] === '}' && --depth === 0) return conf.slice(start, i + 1).replace(/\s+/g, ' ');
  }
  return '';
}

// Dockerfile: instructions with line continuations joined, comments dropped.
export const DOCKERFILE_PATH = repoPath('Dockerfile');
export const dockerfileInstructions: string[] = fs.existsSync(DOCKERFILE_PATH)
  ? fs
      .readFileSync(DOCKERFILE_PATH, 'utf8')
      .replace(/\\\r?\n/g, ' ')
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'))
  : [];

/** The image's default command: the last CMD (exec form or shell form). */
export function dockerfileCmd(): string[] {
  const cmd = dockerfileInstructions.filter((line) => /^CMD\s/i.test(line)).at(-1);
  if (!cmd) return [];
  const args = cmd.replace(/^CMD\s+/i, '');
  return args.startsWith('[') ? (JSON.parse(args) as string[]) : words(args);
}

/** The instructions of the stage named `name` (`FROM … AS name`), up to the next FROM. */
export function dockerfileStage(name: string): string[] {
  const from = dockerfileInstructions.findIndex((line) =>
    new RegExp(`^FROM\\s.*\\sAS\\s+${name}$`, 'i').test(line),
  );
  if (from === -1) return [];
  const next = dockerfileInstructions.findIndex((line, i) => i > from && /^FROM\s/i.test(line));
  return dockerfileInstructions.slice(from + 1, next === -1 ? undefined : next);
}

/** The instructions of the final stage (after the last FROM). */
export function finalStage(): string[] {
  const lastFrom = dockerfileInstructions.findLastIndex((line) => /^FROM\s/i.test(line));
  return dockerfileInstructions.slice(lastFrom + 1);
}

/** Top-level directories the final stage copies from the build context. */
export function copiedFromContext(): string[] {
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
export function entryPoint(command: string[]): string | undefined {
  return command.find((word) => /\.(ts|mts|js|mjs)$/.test(word));
}

// Where the edge image's entry point looks for a database, and the file it writes for nginx to include.
const EDGE_SCRIPT = fs.readFileSync(repoPath('scripts/edge-geoip.sh'), 'utf8');
const scriptDefault = (name: string) => new RegExp(`\\$\\{${name}:-([^}]+)\\}`).exec(EDGE_SCRIPT)?.[1] ?? '';
export const EDGE_GEOIP = {
  dir: scriptDefault('ASSETLINE_GEOIP_DIR'),
  conf: scriptDefault('ASSETLINE_GEOIP_CONF'),
};
