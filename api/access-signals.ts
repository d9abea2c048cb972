import type { AccessCount } from '../infra/adapters/asset-access-repository';
import type { WorkflowGateway } from '../infra/adapters/workflow-gateway';
import type { Logger } from '../infra/logger';

/**
 * Signals each read asset's workflow once per access flush, with the time of its latest read: the workflow tells a
 * read made before the blob moved tiers from one made after. A workflow that has ended (deleted, purged) cannot
 * be signalled; that is expected and only logged at debug.
 */
export function signalAccessed(workflows: WorkflowGateway, logger: Logger) {
  return async (reads: AccessCount[]): Promise<void> => {
    await Promise.all(
      reads.map(({ assetId: id, lastAccessAt }) =>
        workflows
          .accessed(id, lastAccessAt.toISOString())
          .then((delivered) => {
            if (!delivered) logger.debug({ assetId: id }, 'accessed signal not delivered: no workflow');
          })
          .catch((err: unknown) => logger.debug({ err, assetId: id }, 'accessed signal not delivered')),
      ),
    );
  };
}
