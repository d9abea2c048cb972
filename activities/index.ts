import type { AssetRepository } from '../shared/adapters/asset-repository';
import type { ObjectStore } from '../shared/adapters/object-store';
import { discardUploadActivity } from './discard-upload';
import { recordTransitionActivity } from './record-transition';
import { verifyUploadActivity } from './verify-upload';

export interface ActivityDeps {
  assets: AssetRepository;
  store: ObjectStore;
}

/** Each activity is one capability built from the adapters it needs, and nothing more. */
export function createActivities(deps: ActivityDeps) {
  return {
    recordTransition: recordTransitionActivity(deps),
    verifyUpload: verifyUploadActivity(deps),
    discardUpload: discardUploadActivity(deps),
  };
}

export type LifecycleActivities = ReturnType<typeof createActivities>;
