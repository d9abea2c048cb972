import type { AssetRepository, TransitionRecord } from '../shared/adapters/asset-repository';

export function recordTransitionActivity(deps: { assets: AssetRepository }) {
  return async function recordTransition(t: TransitionRecord): Promise<void> {
    await deps.assets.recordTransition(t);
  };
}
