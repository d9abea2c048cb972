import { basename } from 'node:path';
import type { AssetlineClient, ListFilters } from '../client.ts';
import { EXIT } from './exit.ts';
import { bytes } from './progress.ts';
import type { Io } from './io.ts';

const FAILED: readonly string[] = ['rejected', 'failed', 'quarantined', 'expired', 'deleted'];

export async function lsCommand(
  client: AssetlineClient,
  filters: Omit<ListFilters, 'cursor'>,
  max: number | undefined,
  json: boolean,
  io: Io,
): Promise<number> {
  let shown = 0;
  for await (const a of client.list(filters)) {
    if (max !== undefined && shown >= max) break;
    shown++;
    io.stdout.write(
      json
        ? `${JSON.stringify(a)}\n`
        : `${a.assetId}  ${a.status.padEnd(11)} ${a.contentType.padEnd(16)} ${bytes(a.sizeBytes).padStart(10)}  ${a.filename}\n`,
    );
  }
  return EXIT.ok;
}

export async function getCommand(
  client: AssetlineClient,
  id: string,
  opts: { rendition?: string | undefined; output?: string | undefined },
  json: boolean,
  io: Io,
): Promise<number> {
  let to = opts.output;
  if (!to) {
    const asset = await client.get(id);
    // The stored name, never a path from the server: basename keeps the file in the current directory.
    to = opts.rendition ? `${id}-${opts.rendition}` : basename(asset.filename) || id;
  }
  const written = await client.download(id, { rendition: opts.rendition, to });
  io.stdout.write(
    json
      ? `${JSON.stringify({ assetId: id, file: to, sizeBytes: written })}\n`
      : `wrote ${to} (${bytes(written)})\n`,
  );
  return EXIT.ok;
}

export async function rmCommand(client: AssetlineClient, id: string, json: boolean, io: Io): Promise<number> {
  const result = await client.delete(id);
  io.stdout.write(json ? `${JSON.stringify(result)}\n` : `${result.status} ${id}\n`);
  return EXIT.ok;
}

export async function urlCommand(
  client: AssetlineClient,
  id: string,
  rendition: string | undefined,
  json: boolean,
  io: Io,
): Promise<number> {
  const url = await client.contentUrl(id, rendition);
  io.stdout.write(json ? `${JSON.stringify({ assetId: id, url })}\n` : `${url}\n`);
  return EXIT.ok;
}

/** Follows an asset until it settles: one line per change of status, stage or percent. */
export async function watchCommand(
  client: AssetlineClient,
  id: string,
  json: boolean,
  io: Io,
): Promise<number> {
  const asset = await client.waitUntilReady(id, {
    onStage: (s) => {
      if (!json)
        io.stdout.write(
          `${s.status}${s.stage ? ` ${s.stage}` : ''}${s.percent !== null ? ` ${s.percent}%` : ''}\n`,
        );
    },
  });
  if (json) {
    const { assetId, status, statusReason, checksumSha256, sizeBytes } = asset;
    io.stdout.write(`${JSON.stringify({ assetId, status, statusReason, checksumSha256, sizeBytes })}\n`);
  } else if (asset.statusReason) io.stdout.write(`reason: ${asset.statusReason}\n`);
  return FAILED.includes(asset.status) ? EXIT.assetFailed : EXIT.ok;
}
