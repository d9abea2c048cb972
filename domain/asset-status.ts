/** Lifecycle states an asset can be in; terminal ones never change again except by deletion. */
export const ASSET_STATUSES = [
  'pending',
  'processing',
  'ready',
  'rejected',
  'quarantined',
  'failed',
  'expired',
  'deleted',
] as const;
export type AssetStatus = (typeof ASSET_STATUSES)[number];

export const TERMINAL_STATUSES: readonly AssetStatus[] = [
  'rejected',
  'quarantined',
  'failed',
  'expired',
  'deleted',
];
