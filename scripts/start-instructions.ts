export interface RunningPlatform {
  apiUrl: string;
  token: string;
  /** Each of these is absent when the environment named a server of its own instead. */
  temporalUi?: string | undefined;
  s3?: string | undefined;
  postgres?: string | undefined;
  clamd?: string | undefined;
  redis?: string | undefined;
  delivery: string;
  workerHealth: string;
  dataDir: string;
  /** Where the assetline CLI is (client/cli/bin.ts), run with the provisioned Node. */
  repoRoot: string;
}

/**
 * What `npm start` prints once everything answers. The CLI steps are a shell script as printed (test/npm-start runs
 * them): the block under "The assetline CLI" defines it, the next uploads and waits, the last lists and fetches.
 */
export function instructions(p: RunningPlatform): string {
  const api = p.apiUrl;
  const row = (name: string, value: string | undefined) => (value ? `  ${name.padEnd(13)}${value}\n` : '');
  return `
Assetline is running.

${row('API', `${api}   (readiness: ${api}/readyz)`)}${row('Temporal UI', p.temporalUi && `${p.temporalUi}   (each asset is the workflow asset-<assetId>)`)}${row('S3', p.s3)}${row('Delivery', `${p.delivery}   (/media/<id>/content redirects here)`)}${row('Postgres', p.postgres)}${row('clamd', p.clamd)}${row('Redis', p.redis)}${row('Worker', p.workerHealth)}${row('Logs', `${p.dataDir}/logs/`)}
A token for owner 1, valid 30 days:
  export TOKEN=${p.token}

The web console (this link signs owner 1 in; the token stays in that browser tab only):
  ${api}/console/#token=${p.token}

The assetline CLI (client/; for another shell, or put the function in your shell's rc file):
  export ASSETLINE_URL=${api} ASSETLINE_TOKEN=$TOKEN
  assetline() { bash ${p.repoRoot}/scripts/node-env.sh node ${p.repoRoot}/client/cli/bin.ts "$@"; }

Upload files or folders (progress bars, resumable: run it again after an interruption), following each to ready:
  assetline upload photo.jpg --wait

Then list, follow or fetch (add --json for scripts; assetline --help for the rest):
  assetline ls --type image
  assetline get <assetId> --rendition thumb-256 -o thumb.webp

Ctrl-C stops everything; data stays in ${p.dataDir}/ (delete it to start afresh).
`;
}
