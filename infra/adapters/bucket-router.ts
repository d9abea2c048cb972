import type { ObjectStore } from './object-store';
import type { Tier } from './tier-repository';

/** The object stores of the storage tiers, found by tier or by the bucket name a blob row carries. */
export class BucketRouter {
  private readonly byBucket: Map<string, ObjectStore>;

  constructor(private readonly tiers: Record<Tier, ObjectStore>) {
    this.byBucket = new Map(Object.values(tiers).map((s) => [s.bucket, s]));
  }

  tier(tier: Tier): ObjectStore {
    return this.tiers[tier];
  }

  /** Throws for a bucket no tier uses: a blob row pointing elsewhere is a configuration error. */
  bucket(name: string): ObjectStore {
    const store = this.byBucket.get(name);
    if (!store) throw new Error(`no object store configured for bucket ${name}`);
    return store;
  }
}
