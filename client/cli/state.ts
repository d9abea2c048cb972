import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
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
 * ~/.assetline/sessions.json (or $ASSETLINE_STATE_DIR/sessions.json), keyed by path + size + mtime: a file that
 * changed since is a new upload. Writes go through one queue and land by rename, so a kill never leaves half a file.
 */
export class SessionState {
  readonly file: string;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(env: NodeJS.ProcessEnv) {
    this.file = join(env.ASSETLINE_STATE_DIR ?? join(homedir(), '.assetline'), 'sessions.json');
  }

  static key(path: string, size: number, mtimeMs: number): string {
    return `${path}|${size}|${Math.trunc(mtimeMs)}`;
  }

  async get(key: string): Promise<SavedSession | undefined> {
    await this.queue;
    return (await this.read())[key];
  }

  set(key: string, session: SavedSession | undefined): Promise<void> {
    const next = this.queue.then(async () => {
      const all = await this.read();
      if (session) all[key] = session;
      else delete all[key];
      await this.write(all);
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Adds part URLs to a saved session (newer ones replace older ones of the same part). */
  addPartUrls(key: string, urls: { partNumber: number; url: string }[]): Promise<void> {
    const next = this.queue.then(async () => {
      const all = await this.read();
      const session = all[key];
      if (!session || urls.length === 0) return;
      const merged = new Map((session.partUrls ?? []).map((p) => [p.partNumber, p.url]));
      for (const p of urls) merged.set(p.partNumber, p.url);
      all[key] = { ...session, partUrls: [...merged].map(([partNumber, url]) => ({ partNumber, url })) };
      await this.write(all);
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async write(all: Record<string, SavedSession>): Promise<void> {
    await mkdir(join(this.file, '..'), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(all, null, 2));
    await rename(tmp, this.file);
  }

  private async read(): Promise<Record<string, SavedSession>> {
    try {
      return JSON.parse(await readFile(this.file, 'utf8')) as Record<string, SavedSession>;
    } catch {
      return {};
    }
  }
}
