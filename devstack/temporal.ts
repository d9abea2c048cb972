import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { canConnect, freePort } from './ports';
import { runCommand, spawnService, waitUntilReady } from './process';
import { toolPath } from './tools';

export type SearchAttributeType = 'Keyword' | 'Int' | 'Datetime' | 'Text' | 'Double' | 'Bool' | 'KeywordList';

export interface StartTemporalDevServerOptions {
  /** SQLite file to persist state across restarts; in-memory when omitted. */
  dbFile?: string;
  /** gRPC frontend port; defaults to a free port. */
  port?: number;
  /** Web UI port; the UI is disabled (`--headless`) unless this is set. */
  uiPort?: number;
  /** Namespace created at startup (default `default`, which always exists). */
  namespace?: string;
  /** Custom search attributes registered at startup. */
  searchAttributes: Record<string, SearchAttributeType>;
  /** stdout/stderr of the server. */
  logFile: string;
  /** `--dynamic-config-value KEY=JSON` pairs. */
  dynamicConfig?: Record<string, unknown>;
  /** Extra `temporal server start-dev` flags. */
  extraArgs?: string[];
  /** Default 60 s. */
  startTimeoutMs?: number;
}

export interface TemporalDevServerHandle {
  /** gRPC address, `127.0.0.1:PORT`. */
  address: string;
  port: number;
  namespace: string;
  /** `http://127.0.0.1:UI_PORT` when the UI is enabled. */
  uiUrl?: string;
  logFile: string;
  stop(): Promise<void>;
}

const SEARCH_ATTRIBUTE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Server settings every Assetline dev server runs with. Eager activity dispatch hands an activity scheduled on the
 * workflow's own task queue straight back to the worker that scheduled it, saving a matching round trip per
 * activity (off by default in the server; a production cluster should enable it the same way). Fairness makes the
 * media queue dispatch by the activities' fairness keys (their media family) in turn, so clips do not wait behind
 * every photo queued before them, nor photos behind clips.
 */
export const ASSETLINE_DYNAMIC_CONFIG: Readonly<Record<string, unknown>> = {
  'system.enableActivityEagerExecution': true,
  'matching.enableFairness': true,
};

/** `--dynamic-config-value` flags for the given settings, Assetline's defaults first. */
export function dynamicConfigArgs(extra: Record<string, unknown> = {}): string[] {
  return Object.entries({ ...ASSETLINE_DYNAMIC_CONFIG, ...extra }).flatMap(([key, value]) => [
    '--dynamic-config-value',
    `${key}=${JSON.stringify(value)}`,
  ]);
}

function httpResponds(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 3000 }, (res) => {
      res.resume();
      resolve((res.statusCode ?? 0) > 0 && (res.statusCode ?? 0) < 500);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

/**
 * Starts `temporal server start-dev` on 127.0.0.1 and waits until the namespace and its search attributes are
 * queryable over gRPC (and the UI answers HTTP, when enabled).
 */
export async function startTemporalDevServer(
  opts: StartTemporalDevServerOptions,
): Promise<TemporalDevServerHandle> {
  const temporal = toolPath('temporal');
  const namespace = opts.namespace ?? 'default';
  const port = opts.port ?? (await freePort());
  const address = `127.0.0.1:${port}`;
  const logFile = path.resolve(opts.logFile);

  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port)];
  if (opts.uiPort !== undefined) args.push('--ui-port', String(opts.uiPort));
  else args.push('--headless');
  if (opts.dbFile) {
    const dbFile = path.resolve(opts.dbFile);
    fs.mkdirSync(path.dirname(dbFile), { recursive: true });
    args.push('--db-filename', dbFile);
  }
  args.push('--namespace', namespace);
  for (const [name, type] of Object.entries(opts.searchAttributes)) {
    if (!SEARCH_ATTRIBUTE_NAME.test(name)) throw new Error(`Invalid search attribute name: ${name}`);
    args.push('--search-attribute', `${name}=${type}`);
  }
  args.push(...dynamicConfigArgs(opts.dynamicConfig));
  args.push('--log-level', 'warn', ...(opts.extraArgs ?? []));

  const service = await spawnService({
    name: 'temporal',
    command: temporal,
    args,
    logFile,
    // Keep the user's CLI config (~/.config/temporalio, TEMPORAL_* env) out of the server.
    env: { ...process.env, TEMPORAL_ADDRESS: undefined, TEMPORAL_NAMESPACE: undefined },
    stopTimeoutMs: 15_000,
  });
  const uiUrl = opts.uiPort !== undefined ? `http://127.0.0.1:${opts.uiPort}` : undefined;
  const wanted = Object.keys(opts.searchAttributes);

  try {
    await waitUntilReady(service, `serving gRPC on ${address}`, opts.startTimeoutMs ?? 60_000, async () => {
      if (!(await canConnect('127.0.0.1', port))) return false;
      // Ready means: the namespace exists and the search attributes are registered.
      const r = await runCommand(
        temporal,
        [
          'operator',
          'search-attribute',
          'list',
          '--address',
          address,
          '--namespace',
          namespace,
          '--output',
          'json',
          '--command-timeout',
          '5s',
          '--disable-config-file',
          '--disable-config-env',
        ],
        { timeoutMs: 15_000 },
      );
      if (r.code !== 0) throw new Error(r.stderr.trim() || r.stdout.trim());
      const custom =
        (JSON.parse(r.stdout) as { customAttributes?: Record<string, string> }).customAttributes ?? {};
      const missing = wanted.filter((name) => !(name in custom));
      if (missing.length > 0) {
        // A database kept from an earlier version lacks attributes added since: the start-dev flags only
        // register them on a fresh database, so add them here and check again on the next probe.
        const add = [
          'operator',
          'search-attribute',
          'create',
          '--address',
          address,
          '--namespace',
          namespace,
        ];
        for (const name of missing) add.push('--name', name, '--type', opts.searchAttributes[name]!);
        await runCommand(temporal, [...add, '--disable-config-file', '--disable-config-env'], {
          timeoutMs: 15_000,
        });
        throw new Error(`search attributes not registered yet: ${missing.join(', ')}`);
      }
      if (uiUrl && !(await httpResponds(uiUrl))) throw new Error(`UI at ${uiUrl} does not answer yet`);
      return true;
    });
  } catch (err) {
    await service.stop();
    throw err;
  }
  return { address, port, namespace, uiUrl, logFile, stop: () => service.stop() };
}
