import { useEffect, useRef, useState } from 'preact/hooks';
import { apiFor, formatBytes, must, type Api, type AssetSummary, type ListFilters } from '../api';
import type { Identity } from '../session';
import { StatusBadge, VisibilityBadge } from '../components/badges';
import { Thumbnail } from '../components/thumbnail';
import { LibraryFilters } from '../components/library-filters';

const PAGE_SIZE = 50;
const listPage = (api: Api, query: ListFilters) => api.GET('/media', { params: { query } });
let firstPage: ReturnType<typeof listPage> | undefined;

/**
 * Asked for as soon as the script runs (main.tsx), before the first render: the library's first page is the
 * console's landing page, and its answer is what the user waits for.
 */
export function prefetchFirstPage(api: Api): void {
  firstPage = listPage(api, { limit: PAGE_SIZE });
}
function takeFirstPage() {
  const taken = firstPage;
  firstPage = undefined;
  return taken;
}

/** The caller's assets, newest first, a page of 50 at a time: the next page loads as the end scrolls into view. */
export function Library({ identity }: { identity: Identity }) {
  const api = apiFor(identity.token);
  const [filters, setFilters] = useState<ListFilters>({});
  const [items, setItems] = useState<AssetSummary[]>([]);
  const [next, setNext] = useState<string | null | undefined>(undefined);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState('');
  const end = useRef<HTMLDivElement>(null);
  const generation = useRef(0);

  async function load(cursor?: string) {
    const mine = ++generation.current;
    setLoading(true);
    setError('');
    try {
      const early = !cursor && Object.keys(filters).length === 0 ? takeFirstPage() : undefined;
      const page = await must(early ?? listPage(api, { ...filters, limit: PAGE_SIZE, cursor }));
      if (mine !== generation.current) return;
      setItems((prev) => (cursor ? [...prev, ...page.items] : page.items));
      setNext(page.next);
    } catch (err) {
      if (mine === generation.current) setError((err as Error).message);
    } finally {
      if (mine === generation.current) setLoading(false);
    }
  }

  useEffect(() => void load(), [JSON.stringify(filters)]);
  useEffect(() => {
    if (!end.current || !next || loading) return;
    const observer = new IntersectionObserver((e) => e.some((x) => x.isIntersecting) && void load(next));
    observer.observe(end.current);
    return () => observer.disconnect();
  }, [next, loading]);

  return (
    <section aria-labelledby="library-title">
      <h1 id="library-title" tabIndex={-1}>
        Library
      </h1>
      <LibraryFilters onApply={setFilters} />
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      <p class="count" aria-live="polite">
        {next === undefined
          ? 'Loading…'
          : `${items.length}${next ? '+' : ''} asset${items.length === 1 ? '' : 's'}`}
      </p>
      <ul class="grid" aria-busy={loading} data-loaded={next === undefined ? undefined : 'yes'}>
        {items.map((a) => (
          <li key={a.assetId} class="card" data-asset-id={a.assetId}>
            <a href={`#/asset/${a.assetId}`}>
              <Thumbnail asset={a} token={identity.token} />
              <span class="name">{a.filename}</span>
            </a>
            <span class="meta">
              <StatusBadge status={a.status} />
              <VisibilityBadge visibility={a.visibility} />
              <span>{formatBytes(a.sizeBytes)}</span>
            </span>
          </li>
        ))}
      </ul>
      {next === null && items.length === 0 && <p>No assets match.</p>}
      <div ref={end} class="end">
        {next && (
          <button type="button" onClick={() => void load(next)} disabled={loading}>
            {loading ? 'Loading…' : 'Load more'}
          </button>
        )}
      </div>
    </section>
  );
}
