/** What the rule needs to know: the permissions a set of principals holds on an asset (AccessRepository). */
export interface GrantLookup {
  permissions(assetId: string, principals: string[]): Promise<Set<string>>;
}

/** A `*` read grant makes an asset public: stable unsigned `/p/` URLs instead of signed `/d/` ones. */
export async function isPublic(acl: GrantLookup, assetId: string): Promise<boolean> {
  return (await acl.permissions(assetId, ['*'])).has('read');
}
