import type { ListCursor, ListedObject, ObjectStore } from './object-store';

/** Objects copied at once: an HLS ladder is hundreds of small segments, each a round trip to both stores. */
const COPIES_AT_ONCE = 4;

/**
 * Keeps the replica's copy of a key prefix the same as the primary's. Each object is streamed across (the replica
 * may sit on another endpoint with other credentials, so no server-side copy), keeping its content type; one
 * already there at the same size (a retried run) is kept.
 */
export class Replicator {
  constructor(
    private readonly primary: ObjectStore,
    private readonly replica: ObjectStore,
  ) {}

  /** Copies every object below the prefix that the replica lacks; returns how many it copied. */
  async mirror(prefix: string): Promise<number> {
    const have = new Map((await listAll(this.replica, prefix)).map((o) => [o.key, o.sizeBytes]));
    const missing = (await listAll(this.primary, prefix)).filter((o) => have.get(o.key) !== o.sizeBytes);
    let next = 0;
    const copyNext = async (): Promise<void> => {
      for (let i = next++; i < missing.length; i = next++) await this.copy(missing[i]!.key);
    };
    await Promise.all(Array.from({ length: COPIES_AT_ONCE }, copyNext));
    return missing.length;
  }

  /** Deletes the replica's objects below `root` that are not below `keep`; returns how many. */
  async prune(root: string, keep: string): Promise<number> {
    const stale = (await listAll(this.replica, root)).filter((o) => !o.key.startsWith(keep));
    for (const { key } of stale) await this.replica.delete(key);
    return stale.length;
  }

  private async copy(key: string): Promise<void> {
    const head = await this.primary.head(key);
    // Gone since the listing (a newer publish removed it): nothing to copy.
    if (!head) return;
    await this.replica.write(key, await this.primary.read(key), { contentType: head.contentType });
  }
}

async function listAll(store: ObjectStore, prefix: string): Promise<ListedObject[]> {
  const all: ListedObject[] = [];
  let cursor: ListCursor = null;
  do {
    const page = await store.listPage(prefix, cursor, 1000);
    all.push(...page.objects);
    cursor = page.next;
  } while (cursor);
  return all;
}
