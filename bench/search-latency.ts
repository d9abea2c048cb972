import os from 'node:os';
import { sql } from 'kysely';
import { createDb, type Db } from '../infra/db/database';
import { seedCorpus } from '../test/helpers/search-corpus';
import { percentile, pool, round } from './stats';
import type { Bench, Measurement } from './types';

const ASSETS = 1_000_000;
/**
 * The search corpus spreads its assets over 1,000 owners of 1,000 each, one `project` tag per asset; a heavy owner
 * of 50,000 assets, with tags from common (every other asset) to rare (10 assets), makes the rest of the million:
 * the listings where a tag filter could walk far through the owner's assets to fill a page.
 */
const HEAVY = { owner: '5000', assets: 50_000 } as const;
const CORPUS_OWNER = '42';
const TARGET_MS = 20;
const SEQUENTIAL_REQUESTS = 1_000;
const CONCURRENT_REQUESTS = 2_000;
/** As many requests in flight as the machine has cores: loaded, but latency rather than queueing. */
const CONCURRENCY = os.availableParallelism();

/**
 * The heavy owner's assets, the newest of all. Their ids count up after the corpus's, in the same version-4 shape
 * (the API's cursors insist on it). A tenth are public (released when created, so they lead the catalogue),
 * a tenth drafts, the rest private, as in the corpus; the public ones have even numbers, so half of them carry the
 * common tag and a page of both filters fills.
 */
async function seedHeavyOwner(db: Db, first: number, last: number): Promise<void> {
  const id = sql`('00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid`;
  const range = sql`generate_series(${first}::int, ${last}::int) i`;
  await sql`
    insert into media_assets (asset_id, owner_id, bucket, object_key, filename, mime_type, declared_mime_type,
                              size_bytes, status, status_reason, upload_expires_at, created_at, updated_at,
                              visibility, released_at)
    select ${id}, ${HEAVY.owner}, 'seed', 'seed/' || i, 'shot-' || i || '.jpg', 'image/jpeg', 'image/jpeg',
           2000000 + i % 100000, case when i % 20 = 7 then 'deleted' else 'ready' end, 'seeded',
           t.at + interval '15 minutes', t.at, t.at,
           case i % 10 when 4 then 'public' when 5 then 'draft' else 'private' end,
           case when i % 10 = 4 then t.at end
    from ${range}
    cross join lateral (select timestamptz '2024-01-01 00:00:00Z' + i * interval '1 second' as at) t`.execute(
    db,
  );
  await sql`
    insert into asset_metadata (asset_id, key, value)
    select ${id}, 'project', case when i % 2 = 0 then 'campaign' else 'archive' end from ${range}
    union all select ${id}, 'camera', 'x100' from ${range} where i % 100 = 0
    union all select ${id}, 'lens', 'rare' from ${range} where i % 5000 = 0`.execute(db);
}

/** 1,000,000 assets in the platform's own database, once: a later run on the same data reuses them. */
async function seed(db: Db, log: (m: string) => void): Promise<void> {
  const { rows } = await sql<{ all: string; heavy: string }>`
    select count(*) as all, count(*) filter (where owner_id = ${HEAVY.owner}) as heavy
    from media_assets where bucket = 'seed'`.execute(db);
  const heavy = Number(rows[0]?.heavy ?? 0);
  const corpus = Number(rows[0]?.all ?? 0) - heavy;
  if (corpus > 0 && heavy > 0) return;
  const started = Date.now();
  if (corpus === 0) await seedCorpus(db, ASSETS - HEAVY.assets);
  if (heavy === 0) await seedHeavyOwner(db, ASSETS - HEAVY.assets + 1, ASSETS);
  // VACUUM as well as ANALYZE: a table that has lived a while has its visibility map set, so index-only scans of
  // the tags skip the heap, and autovacuum does not start on the fresh million in the middle of the measurement;
  // nor does the checkpoint that writes it out.
  await sql`vacuum analyze media_assets, asset_metadata, asset_acl`.execute(db);
  await sql`checkpoint`.execute(db);
  log(
    `search: seeded ${ASSETS.toLocaleString('en')} assets, vacuumed, analyzed and checkpointed in ${Date.now() - started} ms`,
  );
}

interface Query {
  scenario: string;
  token: string;
  path: string;
}

async function get(apiUrl: string, q: Query): Promise<{ ms: number; next: string | null }> {
  const started = performance.now();
  // The catalogue is asked as anyone asks it: without a token.
  const headers: Record<string, string> = q.token ? { authorization: `Bearer ${q.token}` } : {};
  const res = await fetch(`${apiUrl}${q.path}`, { headers });
  const body = (await res.json()) as { next?: string | null };
  const ms = performance.now() - started;
  if (res.status !== 200) throw new Error(`GET ${q.path} answered ${res.status}: ${JSON.stringify(body)}`);
  return { ms, next: body.next ?? null };
}

/** Each scenario's first page and, following `next`, up to `pages` pages: the URLs a client would send. */
async function queries(apiUrl: string, tokens: { heavy: string; corpus: string }): Promise<Query[]> {
  const tagged = (tags: string[], more = '') =>
    `/media?${[...tags.map((t) => `tag=${encodeURIComponent(t)}`), ...(more ? [more] : [])].join('&')}`;
  const scenarios: [scenario: string, token: string, path: string, pages: number][] = [
    ['common tag (half of 50,000)', tokens.heavy, tagged(['project:campaign']), 5],
    ['1% tag', tokens.heavy, tagged(['camera:x100']), 5],
    ['rare tag (10 assets)', tokens.heavy, tagged(['lens:rare']), 1],
    ['two tags', tokens.heavy, tagged(['project:campaign', 'camera:x100']), 3],
    ['tag of a 1,000-asset owner', tokens.corpus, tagged(['project:p7']), 1],
    ['another tag of a 1,000-asset owner', tokens.corpus, tagged(['project:p500']), 1],
    // Issue 15: visibility and the viewer's country in the filter, and the public catalogue.
    ['common tag, public only', tokens.heavy, tagged(['project:campaign'], 'visibility=public'), 3],
    ["a 1,000-asset owner's drafts", tokens.corpus, '/media?visibility=draft', 1],
    [
      'tag of a 1,000-asset owner, viewer in US',
      tokens.corpus,
      tagged(['project:p7'], 'viewerCountry=US'),
      1,
    ],
    ['catalogue', '', '/catalog', 5],
    ['catalogue, videos', '', '/catalog?type=video', 3],
  ];
  const all: Query[] = [];
  for (const [scenario, token, first, pages] of scenarios) {
    let cursor: string | null = null;
    for (let page = 0; page < pages; page++) {
      const path: string = `${first}${cursor ? `${first.includes('?') ? '&' : '?'}cursor=${cursor}` : ''}`;
      all.push({ scenario: page === 0 ? scenario : `${scenario}, by cursor`, token, path });
      cursor = (await get(apiUrl, { scenario, token, path })).next;
      if (!cursor) break;
    }
  }
  return all;
}

interface Sample {
  scenario: string;
  ms: number;
}

function summary(samples: Sample[]) {
  const ms = samples.map((s) => s.ms);
  const scenarios = [...new Set(samples.map((s) => s.scenario))];
  return {
    requests: samples.length,
    p50Ms: round(percentile(ms, 50)),
    p99Ms: round(percentile(ms, 99)),
    maxMs: round(Math.max(...ms)),
    byScenario: Object.fromEntries(
      scenarios.map((name) => {
        const of = samples.filter((s) => s.scenario === name).map((s) => s.ms);
        return [
          name,
          { requests: of.length, p50Ms: round(percentile(of, 50)), p99Ms: round(percentile(of, 99)) },
        ];
      }),
    ),
  };
}

/**
 * GET /media with tag, visibility and country filters, and GET /catalog, on a database of 1,000,000 assets: the owners' first pages and later pages by cursor,
 * one request at a time and then CONCURRENCY at a time, timed by the client (request sent to body read).
 */
export const searchLatency: Bench = async (ctx) => {
  const db = createDb(ctx.platform.env.DATABASE_URL!, 2);
  try {
    await seed(db, ctx.log);
  } finally {
    await db.destroy();
  }
  const apiUrl = ctx.platform.apiUrl;
  const tokens = { heavy: await ctx.token(HEAVY.owner), corpus: await ctx.token(CORPUS_OWNER) };
  const urls = await queries(apiUrl, tokens);
  // The mix, cycled; a warm-up pass first, so the figure is of a running service and not of its first queries.
  const mix = (n: number) => Array.from({ length: n }, (_, i) => urls[i % urls.length]!);
  await pool(mix(urls.length * 5), CONCURRENCY, (q) => get(apiUrl, q));

  const sequential: Sample[] = [];
  for (const q of mix(SEQUENTIAL_REQUESTS))
    sequential.push({ scenario: q.scenario, ms: (await get(apiUrl, q)).ms });
  const concurrent = await pool(mix(CONCURRENT_REQUESTS), CONCURRENCY, async (q) => ({
    scenario: q.scenario,
    ms: (await get(apiUrl, q)).ms,
  }));

  const measure = (id: string, how: string, samples: Sample[]): Measurement => {
    const details = summary(samples);
    ctx.log(`search ${how}: ${JSON.stringify({ ...details, byScenario: undefined })}`);
    return {
      id,
      title: `GET /media with tag and visibility filters and GET /catalog, 1,000,000 assets, ${how}: p99 latency`,
      value: details.p99Ms,
      unit: 'ms',
      target: `p99 < ${TARGET_MS} ms`,
      met: details.p99Ms < TARGET_MS,
      details,
    };
  };
  return [
    measure('search-tag-p99-sequential', 'one request at a time', sequential),
    measure('search-tag-p99-concurrent', `${CONCURRENCY} requests at a time`, concurrent),
  ];
};
