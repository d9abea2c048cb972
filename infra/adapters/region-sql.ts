import { sql, type RawBuilder } from 'kysely';

/**
 * regionAllows (domain/delivery/regions.ts) as a condition on media_assets' `region_mode` and `regions`, so a
 * listing leaves out in the query what the viewer may not watch and its keyset pages stay full. An unknown country
 * (undefined) is refused by an allow list and let through by a block list, as there.
 */
export function regionAllowsSql(country: string | undefined, table = 'a'): RawBuilder<boolean> {
  const mode = sql.ref(`${table}.region_mode`);
  const regions = sql.ref(`${table}.regions`);
  if (country === undefined) return sql<boolean>`(${mode} is distinct from 'allow')`;
  const listed = sql`(${country.toUpperCase()}::text = any(${regions}))`;
  return sql<boolean>`(${mode} is null or (${mode} = 'allow') = ${listed})`;
}
