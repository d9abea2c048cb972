import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** What resumes an upload after Ctrl-C or kill -9: the asset its session belongs to. */
export interface SavedSession {
  assetId: string;
  url: string;
  startedAt: string;
  /** The multipart session's part URLs, to send a damaged part again (valid until the session expires). */
  partUrls?: { partNumber: number; url: string }[];
}

/**
 * One file per upload under ~/.assetline/sessions/ (or $ASSETLINE_STATE_DIR/sessions/), named by the SHA-256 of
 * path + size + mtime: a file that changed since is a new upload. One file each, so CLIs running side by side never
 * overwrite each other's sessions; writes land by rename, so a kill never leaves half a file.
 */
export class SessionState {
  readonly dir: string;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(env: NodeJS.ProcessEnv) {
    this.dir = join(env.ASSETLINE_STATE_DIR ?? join(homedir(), '.assetline'), 'sessions');
  }

  static key(path: string, size: number, mtimeMs: number): string {
    return `${path}|${size}|${Math.trunc(mtimeMs)}`;
  }

  /** Where the session of `key` is kept. */
  fileOf(key: string): string {
    return join(this.dir, `${createHash('sha256').update(key).digest('hex')}.json`);
  }

  async get(key: string): Promise<SavedSession | undefined> {
    await this.queue;
    return this.read(key);
  }

  set(key: string, session: SavedSession | undefined): Promise<void> {
    return this.enqueue(async () => {
      if (session) await this.write(key, session);
      else await rm(this.fileOf(key), { force: true });
    });
  }

  /** Adds part URLs to a saved session (newer ones replace older ones of the same part). */
  addPartUrls(key: string, urls: { partNumber: number; url: string }[]): Promise<void> {
    return this.enqueue(async () => {
      const session = await this.read(key);
      if (!session || urls.length === 0) return;
      const merged = new Map((session.partUrls ?? []).map((p) => [p.partNumber, p.url]));
      for (const p of urls) merged.set(p.partNumber, p.url);
      await this.write(key, {
        ...session,
        partUrls: [...merged].map(([partNumber, url]) => ({ partNumber, url })),
      });
    });
  }

  private enqueue(work: () => Promise<void>): Promise<void> {
    const next = this.queue.then(work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async write(key: string, session: SavedSession): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const file = this.fileOf(key);
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify({ key, ...session }, null, 2));
    await rename(tmp, file);
  }

  private async read(key: string): Promise<SavedSession | undefined> {
    try {
      const { key: stored, ...session } = JSON.parse(
        await readFile(this.fileOf(key), 'utf8'),
      ) as SavedSession & {
        key: string;
      };
      return stored === key ? session : undefined;
    } catch {
      return undefined;
    }
  }
}
