import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from './exit.ts';

export interface CliConfig {
  url: string;
  token: string;
}

/** `$ASSETLINE_CONFIG`, else ~/.config/assetline/config.json: `{"url": "...", "token": "..."}`. */
export const configPath = (env: NodeJS.ProcessEnv) =>
  env.ASSETLINE_CONFIG ?? join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'assetline', 'config.json');

/** Flags first, then ASSETLINE_URL / ASSETLINE_TOKEN, then the config file: the nearer the caller, the stronger. */
export async function resolveConfig(
  flags: { url?: string | undefined; token?: string | undefined },
  env: NodeJS.ProcessEnv,
): Promise<CliConfig> {
  const path = configPath(env);
  let file: Partial<CliConfig> = {};
  try {
    file = JSON.parse(await readFile(path, 'utf8')) as Partial<CliConfig>;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT')
      throw new UsageError(`cannot read the config file ${path}: ${(err as Error).message}`);
  }
  const url = flags.url ?? env.ASSETLINE_URL ?? file.url;
  const token = flags.token ?? env.ASSETLINE_TOKEN ?? file.token;
  if (!url) throw new UsageError(`no API URL: give --url, set ASSETLINE_URL, or put "url" in ${path}`);
  if (!token) throw new UsageError(`no token: give --token, set ASSETLINE_TOKEN, or put "token" in ${path}`);
  if (!/^https?:\/\//.test(url))
    throw new UsageError(`--url must be an http(s) URL, not ${JSON.stringify(url)}`);
  return { url, token };
}
