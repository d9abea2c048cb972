/**
 * The one definition of where the platform keeps objects in a bucket. Every writer, reader and the orphan sweep go
 * through these builders and parsers, so a change of layout is a change here. Pure and dependency-free: the
 * orphan-sweep workflow imports it too.
 *
 *   uploads/<ownerId>/<assetId>                    a client's upload, until dedup moves it to its blob
 *   blobs/<sha[0:2]>/<sha[2:4]>/<sha256>           content-addressed bytes (the two levels spread the keyspace)
 *   quarantine/<sha256>                            infected bytes, never served
 *   renditions/<sha256>/<attempt>/<path>           one render attempt's outputs; the blob row names the live one
 */

/** The prefixes the platform writes under; anything there that no row accounts for is an orphan. */
export const SWEPT_PREFIXES = ['uploads/', 'blobs/', 'renditions/', 'quarantine/'] as const;
export type SweptPrefix = (typeof SWEPT_PREFIXES)[number];
/** What a replica bucket holds: copies of blobs (at their replica_key) and of published renditions. */
export const REPLICA_SWEPT_PREFIXES = ['blobs/', 'renditions/'] as const satisfies readonly SweptPrefix[];

const SHA256 = /^[0-9a-f]{64}$/;

export const uploadKey = (ownerId: string, assetId: string) => `uploads/${ownerId}/${assetId}`;

/** The owner and asset an upload key names; null for any other key (clients hand keys back, e.g. Uppy). */
export function parseUploadKey(key: string): { ownerId: string; assetId: string } | null {
  const m = /^uploads\/([^/]+)\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/.exec(key);
  return m ? { ownerId: m[1]!, assetId: m[2]! } : null;
}

export const blobKey = (sha256: string) => `blobs/${sha256.slice(0, 2)}/${sha256.slice(2, 4)}/${sha256}`;

export const quarantineKey = (sha256: string) => `quarantine/${sha256}`;

/** Every render attempt of a blob lives below this; releasing the blob removes all of it. */
export const renditionsRoot = (sha256: string) => `renditions/${sha256}/`;

/** One render attempt's prefix (ends in `/`). */
export const renditionAttemptPrefix = (sha256: string, attempt: string) =>
  `${renditionsRoot(sha256)}${attempt}/`;

/** The blob a key under blobs/, quarantine/ or renditions/ belongs to; null for any other key or shape. */
export function blobOfKey(key: string): string | null {
  const parts = key.split('/');
  const sha =
    parts[0] === 'blobs'
      ? parts[3]
      : parts[0] === 'quarantine' || parts[0] === 'renditions'
        ? parts[1]
        : undefined;
  return sha && SHA256.test(sha) ? sha : null;
}
