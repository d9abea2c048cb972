// The worker bundles this file: it lists every workflow type the platform runs.
export { assetLifecycle } from './asset-lifecycle';
export { webhookFanout } from './webhook-fanout';
export { integrityScan } from './integrity-scan';
export { orphanSweep } from './orphan-sweep';
export { frameThumbnail } from './frame-thumbnail';
