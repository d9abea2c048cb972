import { parseArgs } from 'node:util';
import { AssetlineClient, type ListFilters } from '../client.ts';
import { getCommand, lsCommand, rmCommand, urlCommand, watchCommand } from './commands.ts';
import { resolveConfig } from './config.ts';
import { describe, EXIT, exitCodeOf, UsageError } from './exit.ts';
import type { Io } from './io.ts';
import { uploadCommand } from './upload-command.ts';

export const USAGE = `usage: assetline <command> [options]

  upload <files or folders…>   upload (folders recursively); resumes interrupted uploads
      --parallel N             files at once (default 2)
      --concurrency N          parts in flight per file (default 4)
      --wait                   follow each asset until ready or failed
      --dry-run                only tell which files you already have (by SHA-256)
      --visibility V           draft, private, unlisted or public
      --meta key=value         a tag (repeatable)
  ls [--status S] [--type T] [--tag k:v]… [--created-from D] [--created-to D] [--checksum SHA256] [--limit N]
  get <id> [--rendition NAME] [-o FILE]
  rm <id>
  url <id> [--rendition NAME]
  watch <id>

  --url URL, --token TOKEN     or ASSETLINE_URL / ASSETLINE_TOKEN, or ~/.config/assetline/config.json
  --json                       one JSON object per asset on stdout

exit codes: 0 ok, 1 an asset failed or was rejected, 2 usage, 3 authentication, 4 network or server error`;

const OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  parallel: { type: 'string' },
  concurrency: { type: 'string' },
  wait: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  visibility: { type: 'string' },
  meta: { type: 'string', multiple: true },
  status: { type: 'string' },
  type: { type: 'string' },
  tag: { type: 'string', multiple: true },
  'created-from': { type: 'string' },
  'created-to': { type: 'string' },
  checksum: { type: 'string' },
  limit: { type: 'string' },
  rendition: { type: 'string' },
  output: { type: 'string', short: 'o' },
} as const;

const COMMON = ['url', 'token', 'json', 'help'];
const ALLOWED: Record<string, string[]> = {
  upload: ['parallel', 'concurrency', 'wait', 'dry-run', 'visibility', 'meta'],
  ls: ['status', 'type', 'tag', 'created-from', 'created-to', 'checksum', 'limit'],
  get: ['rendition', 'output'],
  rm: [],
  url: ['rendition'],
  watch: [],
};

function count(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d{1,4}$/.test(value) || Number(value) < 1)
    throw new UsageError(`--${name} must be a whole number ≥ 1`);
  return Number(value);
}

function oneId(positionals: string[], command: string): string {
  if (positionals.length !== 1) throw new UsageError(`${command} takes exactly one asset id`);
  return positionals[0]!;
}

/** Runs one command line; answers the exit code. Errors become a line on stderr and their code, never a stack. */
export async function main(argv: string[], io: Io): Promise<number> {
  try {
    let parsed;
    try {
      parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const { values: v, positionals } = parsed;
    const [command, ...rest] = positionals;
    if (v.help || !command) {
      (v.help ? io.stdout : io.stderr).write(`${USAGE}\n`);
      return v.help ? EXIT.ok : EXIT.usage;
    }
    const allowed = ALLOWED[command];
    if (!allowed) throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    const stray = Object.keys(v).filter((k) => !COMMON.includes(k) && !allowed.includes(k));
    if (stray.length) throw new UsageError(`${command} does not take --${stray.join(', --')}`);
    const json = v.json ?? false;
    if (command === 'upload' && rest.length === 0) throw new UsageError('upload needs files or folders');
    const config = await resolveConfig({ url: v.url, token: v.token }, io.env);
    const client = new AssetlineClient({ baseUrl: config.url, token: config.token });
    switch (command) {
      case 'upload': {
        const visibility = v.visibility as 'draft' | 'private' | 'unlisted' | 'public' | undefined;
        if (visibility && !['draft', 'private', 'unlisted', 'public'].includes(visibility)) {
          throw new UsageError('--visibility must be draft, private, unlisted or public');
        }
        const metadata: Record<string, string> = {};
        for (const pair of v.meta ?? []) {
          const eq = pair.indexOf('=');
          if (eq < 1) throw new UsageError(`--meta ${pair}: expected key=value`);
          metadata[pair.slice(0, eq)] = pair.slice(eq + 1);
        }
        return await uploadCommand(
          client,
          {
            paths: rest,
            parallel: count(v.parallel, 'parallel', 2),
            concurrency: count(v.concurrency, 'concurrency', 4),
            wait: v.wait ?? false,
            dryRun: v['dry-run'] ?? false,
            json,
            visibility,
            metadata,
          },
          io,
        );
      }
      case 'ls': {
        if (rest.length) throw new UsageError('ls takes no positional arguments');
        const filters = {
          status: v.status,
          type: v.type,
          tag: v.tag,
          createdFrom: v['created-from'],
          createdTo: v['created-to'],
          checksumSha256: v.checksum,
        } as Omit<ListFilters, 'cursor'>;
        const max = v.limit === undefined ? undefined : count(v.limit, 'limit', 0);
        return await lsCommand(client, filters, max, json, io);
      }
      case 'get':
        return await getCommand(
          client,
          oneId(rest, command),
          { rendition: v.rendition, output: v.output },
          json,
          io,
        );
      case 'rm':
        return await rmCommand(client, oneId(rest, command), json, io);
      case 'url':
        return await urlCommand(client, oneId(rest, command), v.rendition, json, io);
      default:
        return await watchCommand(client, oneId(rest, command), json, io);
    }
  } catch (err) {
    io.stderr.write(`assetline: ${describe(err)}\n`);
    if (err instanceof UsageError) io.stderr.write('run `assetline --help` for usage\n');
    return exitCodeOf(err);
  }
}
