import { sql } from 'kysely';
import type { Db } from '../../infra/db/database';
import { SearchRepository, type SearchFilter } from '../../infra/adapters/search-repository';
import { CatalogRepository, type CatalogFilter } from '../../infra/adapters/catalog-repository';

/** Shape of the synthetic corpus; the scenarios pick callers and tags that exist in it. */
export const CORPUS = { owners: 1000, projects: 997, groups: 7, sharedEvery: 100 } as const;
/** The catalogue's clock in the scenarios: after every release and the past unpublish instants, before the future. */
export const CORPUS_NOW = new Date('2026-01-01T00:00:00Z');

/**
 * Seeds `assets` assets in one insert … select from generate_series, one `project` tag each and a group grant on
 * every 100th (a third of them write, so shared drafts are listed to some); spread over 1,000 owners, six statuses
 * (deleted among them) and five types, one second apart; then ANALYZE. Visibility is spread independently of the
 * owner: 75% private, 10% public (released when created), 10% unlisted, 5% draft; a fifth of the public ones have
 * a regional policy (allow DE FR, or block US) and one in 25 an unpublish instant (half past, half future). Ids
 * count up instead of being random: the listing never ranges over ids alone, and random ones double the insert time.
 */
export async function seedCorpus(db: Db, assets: number): Promise<void> {
  // Shaped as version-4 UUIDs, which the API's cursors insist on: the benchmark pages through these over HTTP.
  const id = sql`('00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid`;
  const { owners, projects, groups, sharedEvery } = CORPUS;
  await sql`
    insert into media_assets (asset_id, owner_id, bucket, object_key, filename, mime_type, declared_mime_type,
                              size_bytes, status, status_reason, upload_expires_at, created_at, updated_at,
                              visibility, released_at, region_mode, regions, unpublish_at)
    select ${id}, 1 + i % ${owners}, 'seed', 'seed/' || i, 'file-' || i || '.bin', t.mime, t.mime,
           1024 + i % 100000, t.status, 'seeded', t.at + interval '15 minutes', t.at, t.at,
           t.visibility, case when t.visibility in ('public', 'unlisted') then t.at end,
           case when t.visibility = 'public' then (array['allow', 'block'])[(i / 7) % 10 + 1] end,
           case when t.visibility = 'public' and (i / 7) % 10 = 0 then array['DE', 'FR']
                when t.visibility = 'public' and (i / 7) % 10 = 1 then array['US']
                else '{}'::text[] end,
           case when t.visibility = 'public' and (i / 11) % 25 = 0
                then (case when i % 2 = 0 then timestamptz '2025-01-01Z' else timestamptz '2030-01-01Z' end) end
    from generate_series(1, ${assets}::int) i
    cross join lateral (select
      (array['image/jpeg', 'image/png', 'video/mp4', 'audio/mpeg', 'application/pdf'])[1 + (i / 10000) % 5] as mime,
      (array['ready', 'ready', 'ready', 'ready', 'ready', 'processing', 'pending', 'failed', 'rejected',
             'deleted'])[1 + (i / ${owners}) % 10] as status,
      (array['public', 'public', 'unlisted', 'unlisted', 'draft', 'private', 'private', 'private', 'private',
             'private', 'private', 'private', 'private', 'private', 'private', 'private', 'private', 'private',
             'private', 'private'])[1 + (i / 3) % 20] as visibility,
      timestamptz '2024-01-01 00:00:00Z' + i * interval '1 second' as at) t`.execute(db);
  await sql`
    insert into asset_metadata (asset_id, key, value)
    select ${id}, 'project', 'p' || (i % ${projects}) from generate_series(1, ${assets}::int) i`.execute(db);
  await sql`
    insert into asset_acl (asset_id, principal, permission)
    select ${id}, 'group:team-' || (i / ${sharedEvery}) % ${groups},
           case when (i / ${sharedEvery}) % 3 = 0 then 'write' else 'read' end
    from generate_series(${sharedEvery}::int, ${assets}::int, ${sharedEvery}::int) i`.execute(db);
  await sql`analyze media_assets, asset_metadata, asset_acl`.execute(db);
}

export interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Index Cond'?: string;
  'Actual Rows': number;
  'Actual Loops': number;
  Plans?: PlanNode[];
}

export interface ExplainedQuery {
  name: string;
  plan: PlanNode;
  executionMs: number;
  planningMs: number;
}

interface Explainable {
  explain(format: 'json', options: ReturnType<typeof sql>): Promise<unknown[]>;
}

/** The repositories' listing queries a caller would send (GET /media, GET /catalog), EXPLAINed with ANALYZE. */
export async function explainListings(db: Db): Promise<ExplainedQuery[]> {
  const search = new SearchRepository(db);
  const catalog = new CatalogRepository(db);
  const owner: SearchFilter = { ownerId: '42', principals: ['user:42'], tags: [], limit: 50 };
  const firstPage = await search.list(owner);
  const last = firstPage[owner.limit - 1];
  if (!last) throw new Error('the corpus is too small for a second page');
  const visitor: CatalogFilter = { viewerCountry: undefined, limit: 20, now: CORPUS_NOW };
  const catalogPage = await catalog.page(visitor);
  const lastEntry = catalogPage[visitor.limit - 1];
  if (!lastEntry) throw new Error('the corpus is too small for a second catalogue page');
  const shared = { ...owner, ownerId: '5', principals: ['user:5', 'group:team-3'] };
  const scenarios: [string, Explainable][] = [
    ['owner listing', search.listQuery(owner)],
    ['status filter', search.listQuery({ ...owner, status: 'failed' })],
    ['tag filter', search.listQuery({ ...owner, tags: [['project', 'p7']] })],
    // What list() runs first for a tag filter: the owner's newest rows, probed per row (here it falls short).
    ['tag filter, the walk first', search.walkQuery({ ...owner, tags: [['project', 'p7']] })],
    ['type family filter', search.listQuery({ ...owner, mimeTypes: ['image/jpeg', 'image/png'] })],
    ['shared listing', search.listQuery(shared)],
    [
      'second page by cursor',
      search.listQuery({ ...owner, after: { createdAt: last.position, assetId: last.asset_id } }),
    ],
    ['visibility filter', search.listQuery({ ...owner, visibility: 'public' })],
    [
      'tag and visibility filter',
      search.listQuery({ ...owner, tags: [['project', 'p7']], visibility: 'draft' }),
    ],
    ['viewer country filter', search.listQuery({ ...shared, viewerCountry: 'US' })],
    ['catalogue, country unknown', catalog.pageQuery(visitor)],
    ['catalogue for a country', catalog.pageQuery({ ...visitor, viewerCountry: 'US' })],
    ['catalogue by type', catalog.pageQuery({ ...visitor, viewerCountry: 'DE', mimeTypes: ['video/mp4'] })],
    [
      'catalogue second page by cursor',
      catalog.pageQuery({
        ...visitor,
        after: { releasedAt: lastEntry.position, assetId: lastEntry.assetId },
      }),
    ],
  ];
  const explained: ExplainedQuery[] = [];
  for (const [name, query] of scenarios) {
    const [row] = await query.explain('json', sql`analyze, buffers`);
    const [result] = (
      row as { 'QUERY PLAN': { Plan: PlanNode; 'Execution Time': number; 'Planning Time': number }[] }
    )['QUERY PLAN'];
    if (!result) throw new Error(`no plan for ${name}`);
    explained.push({
      name,
      plan: result.Plan,
      executionMs: result['Execution Time'],
      planningMs: result['Planning Time'],
    });
  }
  return explained;
}

export function planNodes(node: PlanNode, depth = 0): (PlanNode & { depth: number })[] {
  return [{ ...node, depth }, ...(node.Plans ?? []).flatMap((child) => planNodes(child, depth + 1))];
}

/** docs/search-plans.md: each query's plan tree with node types, relations, indexes and actual rows. */
export function renderPlansMarkdown(explained: ExplainedQuery[], assets: number): string {
  const sections = explained.flatMap(({ name, plan, executionMs, planningMs }) => [
    `## ${name}`,
    '',
    `Execution ${executionMs.toFixed(3)} ms, planning ${planningMs.toFixed(3)} ms.`,
    '',
    '```text',
    ...planNodes(plan).map((n) => {
      const on = n['Relation Name'] ? ` on ${n['Relation Name']}` : '';
      const using = n['Index Name'] ? ` using ${n['Index Name']}` : '';
      return `${'  '.repeat(n.depth)}${n['Node Type']}${on}${using}  (rows=${n['Actual Rows']} loops=${n['Actual Loops']})`;
    }),
    '```',
    '',
  ]);
  return [
    '# Search plans',
    '',
    `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) of \`SearchRepository.listQuery\` (GET /media) and`,
    `\`CatalogRepository.pageQuery\` (GET /catalog) over ${assets.toLocaleString('en')} assets`,
    '(`test/helpers/search-corpus.ts`: 1,000 owners, six statuses, five types, one `project` tag each, every 100th',
    'asset shared with one of 7 groups, a third of those with write; 75% private, 10% public, 10% unlisted, 5% draft,',
    'a fifth of the public ones with a regional policy, one in 25 with an unpublish instant).',
    'Generated by `WRITE_PLANS=1 npx vitest run test/search-plans.test.ts`;',
    'the timings are from the machine that ran it, the node types are what the test asserts.',
    '',
    ...sections,
  ].join('\n');
}
