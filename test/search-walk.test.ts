import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../infra/db/database';
import { SearchRepository, type SearchFilter } from '../infra/adapters/search-repository';
import { freshDatabase } from './helpers/stack';

/**
 * GET /media's tag filters walk the owner's newest rows before trusting the planner (SearchRepository.list). Either
 * way the pages must be exactly what the filter selects, newest first: checked against every row filtered here,
 * through all pages by cursor, for tags dense enough to fill a page from the walk and too sparse to, with the
 * caller's own assets interleaved with ones shared to it.
 */
describe('tag listings that walk the owner first', () => {
  let db: Db;
  let repo: SearchRepository;
  const OWNER = '8100';
  const OTHER = '8200';
  const ASSETS = 1_500;
  const id = sql`('00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid`;

  beforeAll(async () => {
    ({ db } = await freshDatabase());
    repo = new SearchRepository(db);
    // Every third asset is the other owner's, of which every other one is shared with OWNER (a draft among them
    // only with write); one in 20 is deleted; a tenth are public.
    await sql`
      insert into media_assets (asset_id, owner_id, bucket, object_key, filename, mime_type, declared_mime_type,
                                size_bytes, status, status_reason, upload_expires_at, created_at, updated_at,
                                visibility, released_at)
      select ${id}, case when i % 3 = 0 then ${OTHER}::bigint else ${OWNER}::bigint end, 'seed', 'seed/' || i, 'f' || i, 'image/png',
             'image/png', 1000, case when i % 20 = 7 then 'deleted' else 'ready' end, 'seeded',
             t.at + interval '15 minutes', t.at, t.at,
             case when i % 10 = 4 then 'public' when i % 9 = 0 then 'draft' else 'private' end,
             case when i % 10 = 4 then t.at end
      from generate_series(1, ${ASSETS}::int) i
      -- Pairs of assets share a created_at (a shared one the later id of its pair), so the cursor's and the merge's
      -- tie-break on asset_id are exercised too.
      cross join lateral (select timestamptz '2025-01-01Z' + ((i + 1) / 2) * interval '1 second' as at) t`.execute(
      db,
    );
    await sql`
      insert into asset_metadata (asset_id, key, value)
      select ${id}, 'project', case when i % 2 = 0 then 'dense' else 'other' end from generate_series(1, ${ASSETS}::int) i
      union all select ${id}, 'lens', 'sparse' from generate_series(1, ${ASSETS}::int) i where i % 97 = 0
      union all select ${id}, 'camera', 'x' from generate_series(1, ${ASSETS}::int) i where i % 5 = 0
      union all select ${id}, 'kind', 'any' from generate_series(1, ${ASSETS}::int) i`.execute(db);
    await sql`
      insert into asset_acl (asset_id, principal, permission)
      select ${id}, 'user:' || ${OWNER}, case when i % 4 = 0 then 'write' else 'read' end
      from generate_series(1, ${ASSETS}::int) i where i % 3 = 0 and i % 2 = 0`.execute(db);
    await sql`analyze media_assets, asset_metadata, asset_acl`.execute(db);
  }, 120_000);

  afterAll(async () => db?.destroy());

  /** What the filter selects, by brute force: every row, filtered and ordered here. */
  async function expected(f: SearchFilter): Promise<string[]> {
    const { rows } = await sql<{
      asset_id: string;
      owner_id: string;
      status: string;
      visibility: string;
      at: string;
    }>`
      select asset_id, owner_id::text, status, visibility,
             to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as at
      from media_assets`.execute(db);
    const tags = await sql<{
      asset_id: string;
      key: string;
      value: string;
    }>`select * from asset_metadata`.execute(db);
    const acl = await sql<{ asset_id: string; permission: string }>`
      select asset_id, permission from asset_acl where principal = any(${f.principals})`.execute(db);
    const has = new Set(tags.rows.map((t) => `${t.asset_id} ${t.key}=${t.value}`));
    const grants = new Map(acl.rows.map((g) => [g.asset_id, g.permission]));
    return rows
      .filter((r) => r.status !== 'deleted')
      .filter((r) => !f.visibility || r.visibility === f.visibility)
      .filter((r) =>
        r.owner_id === f.ownerId
          ? true
          : grants.has(r.asset_id) && (r.visibility !== 'draft' || grants.get(r.asset_id) === 'write'),
      )
      .filter((r) => f.tags.every(([k, v]) => has.has(`${r.asset_id} ${k}=${v}`)))
      .sort((x, y) => (x.at !== y.at ? (x.at < y.at ? 1 : -1) : x.asset_id < y.asset_id ? 1 : -1))
      .map((r) => r.asset_id);
  }

  /** Every page in turn, following the last row as the API's cursor does. */
  async function allPages(f: SearchFilter): Promise<{ ids: string[]; pages: number }> {
    const ids: string[] = [];
    let after: SearchFilter['after'];
    for (let pages = 1; ; pages++) {
      const rows = await repo.list({ ...f, after });
      const page = rows.slice(0, f.limit);
      ids.push(...page.map((r) => r.asset_id));
      if (rows.length <= f.limit) return { ids, pages };
      const last = page.at(-1)!;
      after = { createdAt: last.position, assetId: last.asset_id };
    }
  }

  const base = { ownerId: OWNER, principals: [`user:${OWNER}`] };
  const cases: [string, SearchFilter][] = [
    ['a dense tag (the walk fills the page)', { ...base, tags: [['project', 'dense']], limit: 20 }],
    ['a sparse tag (the planner answers)', { ...base, tags: [['lens', 'sparse']], limit: 5 }],
    [
      'two tags',
      {
        ...base,
        tags: [
          ['project', 'dense'],
          ['camera', 'x'],
        ],
        limit: 10,
      },
    ],
    [
      'a dense tag among public assets',
      { ...base, tags: [['project', 'dense']], visibility: 'public', limit: 7 },
    ],
    ['drafts by a dense tag', { ...base, tags: [['project', 'dense']], visibility: 'draft', limit: 3 }],
    // The walk finds some but not a page: its rows alone would be a wrong page.
    ['a tag on a fifth (the walk falls short)', { ...base, tags: [['camera', 'x']], limit: 40 }],
    [
      'a tag on a fifth, nothing shared with the caller',
      { ...base, principals: ['group:nobody'], tags: [['camera', 'x']], limit: 40 },
    ],
    // Own and shared assets created at the same instant: the merge orders them by id as Postgres does.
    ['a tag on everything', { ...base, tags: [['kind', 'any']], limit: 25 }],
  ];

  for (const [name, f] of cases) {
    it(`pages ${name} exactly as the filter selects`, async () => {
      const want = await expected(f);
      expect(want.length).toBeGreaterThan(f.limit);
      const got = await allPages(f);
      expect(got.ids).toEqual(want);
      expect(got.pages).toBe(Math.ceil(want.length / f.limit));
    });
  }

  it('the walk answers a dense tag from the first rows of the owner, probing per row', async () => {
    const f: SearchFilter = { ...base, tags: [['project', 'dense']], limit: 20 };
    // Filled: list() takes the walk's page and never asks the planner's plan.
    expect(await repo.walkQuery(f).execute()).toHaveLength(21);
    const compiled = repo.walkQuery(f).compile();
    const { rows } = await db.executeQuery<{ 'QUERY PLAN': string }>({
      ...compiled,
      sql: `explain (analyze, costs off) ${compiled.sql}`,
    });
    const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
    expect(plan).toMatch(/SubPlan/);
    expect(plan).not.toMatch(/Hash|Sort \(/);
    // A sparse tag's walk stops at its cap (4 pages' worth of rows) short of a page: list() asks the planner.
    const sparse = await repo.walkQuery({ ...f, tags: [['lens', 'sparse']], limit: 5 }).execute();
    expect(sparse.length).toBeLessThanOrEqual(5);
  });
});
