import { sql } from 'kysely';
import type { Db } from '../../infra/db/database';
import { SearchRepository, type SearchFilter } from '../../infra/adapters/search-repository';

/** Shape of the synthetic corpus; the scenarios pick callers and tags that exist in it. */
export const CORPUS = { owners: 1000, projects: 997, groups: 7, sharedEvery: 100 } as const;

/**
 * Seeds `assets` assets in one insert … select from generate_series, one `project` tag each and a group grant on
 * every 100th; spread over 1,000 owners, six statuses (deleted among them) and five types, one second apart; then
 * ANALYZE. Ids count up instead of being random: the listing never ranges over ids alone, and random ones double
 * the insert time.
 */
export async function seedCorpus(db: Db, assets: number): Promise<void> {
  const id = sql`lpad(to_hex(i), 32, '0')::uuid`;
  const { owners, projects, groups, sharedEvery } = CORPUS;
  await sql`
    insert into media_assets (asset_id, owner_id, bucket, object_key, filename, mime_type, declared_mime_type,
                              size_bytes, status, status_reason, upload_expires_at, created_at, updated_at)
    select ${id}, 1 + i % ${owners}, 'seed', 'seed/' || i, 'file-' || i || '.bin', t.mime, t.mime,
           1024 + i % 100000, t.status, 'seeded', t.at + interval '15 minutes', t.at, t.at
    from generate_series(1, ${assets}::int) i
    cross join lateral (select
      (array['image/jpeg', 'image/png', 'video/mp4', 'audio/mpeg', 'application/pdf'])[1 + (i / 10000) % 5] as mime,
      (array['ready', 'ready', 'ready', 'ready', 'ready', 'processing', 'pending', 'failed', 'rejected',
             'deleted'])[1 + (i / ${owners}) % 10] as status,
      timestamptz '2024-01-01 00:00:00Z' + i * interval '1 second' as at) t`.execute(db);
  await sql`
    insert into asset_metadata (asset_id, key, value)
    select ${id}, 'project', 'p' || (i % ${projects}) from generate_series(1, ${assets}::int) i`.execute(db);
  await sql`
    insert into asset_acl (asset_id, principal, permission)
    select ${id}, 'group:team-' || (i / ${sharedEvery}) % ${groups}, 'read'
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

/** The repository's listing queries a caller would send, EXPLAINed with ANALYZE and BUFFERS. */
export async function explainListings(db: Db): Promise<ExplainedQuery[]> {
  const search = new SearchRepository(db);
  const owner: SearchFilter = { ownerId: '42', principals: ['user:42'], tags: [], limit: 50 };
  const firstPage = await search.list(owner);
  const last = firstPage[owner.limit - 1];
  if (!last) throw new Error('the corpus is too small for a second page');
  const scenarios: [string, SearchFilter][] = [
    ['owner listing', owner],
    ['status filter', { ...owner, status: 'failed' }],
    ['tag filter', { ...owner, tags: [['project', 'p7']] }],
    ['type family filter', { ...owner, mimeTypes: ['image/jpeg', 'image/png'] }],
    ['shared listing', { ...owner, ownerId: '5', principals: ['user:5', 'group:team-3'] }],
    ['second page by cursor', { ...owner, after: { createdAt: last.position, assetId: last.asset_id } }],
  ];
  const explained: ExplainedQuery[] = [];
  for (const [name, filter] of scenarios) {
    const [row] = await search.listQuery(filter).explain('json', sql`analyze, buffers`);
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
    `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) of \`SearchRepository.listQuery\` (GET /media) over ${assets.toLocaleString('en')}`,
    'assets (`test/helpers/search-corpus.ts`: 1,000 owners, six statuses, five types, one `project` tag each, every',
    '100th asset shared with one of 7 groups). Generated by `WRITE_PLANS=1 npx vitest run test/search-plans.test.ts`;',
    'the timings are from the machine that ran it, the node types are what the test asserts.',
    '',
    ...sections,
  ].join('\n');
}
