import type { AssetRepository } from '../infra/adapters/asset-repository';
import type { ObjectStore } from '../infra/adapters/object-store';
import { ObjectTokenizer } from '../infra/adapters/object-tokenizer';
import { SNIFF_BUDGET, sniffContent, type SniffVerdict } from './media/tools/content-policy';

/** Sniffs a stored object with ranged GETs where the parser looks (within SNIFF_BUDGET); says what it read. */
export async function sniffStoredObject(
  store: ObjectStore,
  key: string,
  declaredContentType: string,
): Promise<{ verdict: SniffVerdict; reads: number; bytesRead: number }> {
  const tokenizer = await ObjectTokenizer.open(store, key, SNIFF_BUDGET);
  const verdict = await sniffContent(tokenizer, declaredContentType);
  return { verdict, reads: tokenizer.stats.reads, bytesRead: tokenizer.stats.bytes };
}

/** Decides the upload's type from its bytes, never from the name or the declaration. */
export function sniffContentActivity(deps: { store: ObjectStore; assets: AssetRepository }) {
  return async function sniffUpload(input: {
    assetId: string;
    objectKey: string;
    declaredContentType: string;
  }): Promise<SniffVerdict> {
    const { verdict } = await sniffStoredObject(deps.store, input.objectKey, input.declaredContentType);
    if (verdict.ok) await deps.assets.setDetectedType(input.assetId, verdict.mimeType);
    return verdict;
  };
}
