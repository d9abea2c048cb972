import type { AccessRepository } from '../adapters/access-repository';

/** A `*` read grant makes an asset public: stable unsigned `/p/` URLs instead of signed `/d/` ones. */
export async function isPublic(acl: AccessRepository, assetId: string): Promise<boolean> {
  return (await acl.permissions(assetId, ['*'])).has('read');
}
