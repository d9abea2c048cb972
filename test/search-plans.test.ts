import { mkdir, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import pg from 'pg';
import type { Db } from '../infra/db/database';
import { freshDatabase } from './helpers/stack';
import {
  explainListings,
  planNodes,
  renderPlansMarkdown,
  seedCorpus,
  type ExplainedQuery,
} from './helpers/search-corpus';

const ASSETS = 1_000_000;
const SEARCHED_TABLES = ['media_assets', 'asset_metadata'];
const INDEX_NODES = ['Index Scan', 'Index Only Scan', 'Bitmap Index Scan'];

describe(`GET /media's and GET /catalog's queries at ${ASSETS.toLocaleString('en')} assets`, () => {
  let db: Db;
  let url: string;
  let plans: ExplainedQuery[];

  beforeAll(async () => {
    ({ db, url } = await freshDatabase());
    await seedCorpus(db, ASSETS);
    plans = await explainListings(db);
    if (process.env.WRITE_PLANS === '1') {
      await mkdir(new URL('../docs/', import.meta.url), { recursive: true });
      await writeFile(
        new URL('../docs/search-plans.md', import.meta.url),
        renderPlansMarkdown(plans, ASSETS),
      );
    }
  }, 300_000);

  afterAll(async () => {
    await db?.destroy();
    if (!url) return;
    // 800 MB of synthetic rows: give the disk back instead of waiting for the run's teardown.
    const admin = new pg.Client({ connectionString: inject('stack').databaseUrl });
    await admin.connect();
    await admin.query(`DROP DATABASE ${new URL(url).pathname.slice(1)} WITH (FORCE)`);
    await admin.end();
  });

  const plan = (name: string) => {
    const found = plans.find((p) => p.name === name);
    if (!found) throw new Error(`no plan named ${name}`);
    return planNodes(found.plan);
  };
  const indexesUsed = (name: string) =>
    plan(name)
      .filter((n) => INDEX_NODES.includes(n['Node Type']))
      .map((n) => n['Index Name']);

  it('never scans media_assets or asset_metadata sequentially', () => {
    for (const { name } of plans) {
      const seqScans = plan(name).filter(
        (n) => n['Node Type'] === 'Seq Scan' && SEARCHED_TABLES.includes(n['Relation Name'] ?? ''),
      );
      expect(seqScans, name).toEqual([]);
    }
  });

  it("walks the owner's index newest first and stops at a page", () => {
    const nodes = plan('owner listing');
    expect(nodes[0]).toMatchObject({ 'Node Type': 'Limit', 'Actual Rows': 51 });
    const scan = nodes.find((n) => n['Index Name'] === 'media_assets_owner_created_desc_idx');
    expect(scan).toMatchObject({ 'Node Type': 'Index Scan' });
    // No sort of the owner's rows: the index order is the answer's order.
    expect(scan!['Actual Rows']).toBeLessThanOrEqual(51);
  });

  it('filters by status, tag and type through indexes', () => {
    expect(indexesUsed('status filter')).toContain('media_assets_owner_status_created_idx');
    const tagged = plan('tag filter').filter((n) => INDEX_NODES.includes(n['Node Type']));
    expect(tagged.map((n) => n['Index Name'])).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^asset_metadata_/),
        expect.stringMatching(/^media_assets_/),
      ]),
    );
    expect(indexesUsed('type family filter')).toContain('media_assets_owner_created_desc_idx');
  });

  it("walks at most four pages of the owner's rows for a tag, one index probe per row, no sort", () => {
    const nodes = plan('tag filter, the walk first');
    const scan = nodes.find((n) => n['Index Name'] === 'media_assets_owner_created_desc_idx');
    expect(scan).toMatchObject({ 'Node Type': 'Index Scan' });
    expect(scan!['Actual Rows']).toBeLessThanOrEqual(4 * 51);
    const probes = nodes.filter((n) => n['Index Name']?.startsWith('asset_metadata_'));
    expect(probes.length).toBeGreaterThan(0);
    for (const probe of probes) expect(probe['Actual Rows']).toBeLessThanOrEqual(1);
    expect(nodes.filter((n) => /Sort|Hash/.test(n['Node Type']))).toEqual([]);
  });

  it('finds shared assets through the ACL index and fetches them by primary key', () => {
    expect(indexesUsed('shared listing')).toEqual(
      expect.arrayContaining(['asset_acl_principal_idx', 'media_assets_pkey']),
    );
    expect(plan('shared listing')[0]).toMatchObject({ 'Actual Rows': 51 });
  });

  it('starts the second page inside the index (keyset, not OFFSET)', () => {
    const scan = plan('second page by cursor').find(
      (n) => n['Index Name'] === 'media_assets_owner_created_desc_idx',
    );
    expect(scan?.['Index Cond']).toMatch(/ROW\(created_at, asset_id\) < ROW\(/);
    expect(scan!['Actual Rows']).toBeLessThanOrEqual(51);
  });

  it('lists a shared draft only through a write or delete grant, checked on the ACL primary key', () => {
    expect(indexesUsed('shared listing')).toContain('asset_acl_pk');
  });

  it('filters by visibility through its own index and by viewer country on the owner index, stopping at a page', () => {
    for (const name of ['visibility filter', 'viewer country filter']) {
      expect(plan(name)[0], name).toMatchObject({ 'Node Type': 'Limit', 'Actual Rows': 51 });
    }
    expect(indexesUsed('viewer country filter')).toContain('media_assets_owner_created_desc_idx');
    // The visibility is part of the range walked: a rare one does not mean a long walk.
    const scan = plan('visibility filter').find(
      (n) => n['Index Name'] === 'media_assets_owner_visibility_created_idx',
    );
    expect(scan?.['Index Cond']).toMatch(/visibility = 'public'/);
    expect(scan!['Actual Rows']).toBeLessThanOrEqual(51);
  });

  it("walks the catalogue's index only, newest release first, and reads just a page of rows", () => {
    for (const name of [
      'catalogue, country unknown',
      'catalogue for a country',
      'catalogue by type',
      'catalogue second page by cursor',
    ]) {
      const nodes = plan(name);
      expect(nodes[0], name).toMatchObject({ 'Actual Rows': 21 });
      const walk = nodes.find((n) => n['Index Name'] === 'media_assets_catalog_idx');
      // Every filter (type, country, unpublish instant) is answered from the index's included columns.
      expect(walk, name).toMatchObject({ 'Node Type': 'Index Only Scan' });
      expect(walk!['Actual Rows'], name).toBeLessThanOrEqual(21);
      // No sort of the released: the index order is the answer's order. The one sort is of releases due and not
      // yet written by the release clock, found through the schedule's index (none in this corpus).
      expect(
        nodes.filter((n) => n['Node Type'] === 'Sort').map((n) => n['Actual Rows']),
        name,
      ).toEqual([0]);
      expect(indexesUsed(name), name).toEqual(
        expect.arrayContaining(['media_assets_pkey', 'media_assets_scheduled_idx']),
      );
    }
    const scan = plan('catalogue second page by cursor').find(
      (n) => n['Index Name'] === 'media_assets_catalog_idx',
    );
    expect(scan?.['Index Cond']).toMatch(/ROW\(released_at, asset_id\) < ROW\(/);
  });
});
