import type { WorkflowGateway } from '../infra/adapters/workflow-gateway';
import type { Logger } from '../infra/logger';

/**
 * Signals each read asset's workflow once per access flush. A workflow that has ended (deleted, purged) cannot
 * be signalled; that is expected and only logged at debug.
 */
export function signalAccessed(workflows: WorkflowGateway, logger: Logger) {
  return async (assetIds: string[]): Promise<void> => {
    const at = new Date().toISOString();
    await Promise.all(
      assetIds.map((id) =>
        workflows
          .accessed(id, at)
          .then((delivered) => {
            if (!delivered) logger.debug({ assetId: id }, 'accessed signal not delivered: no workflow');
          })
          .catch((err: unknown) => logger.debug({ err, assetId: id }, 'accessed signal not delivered')),
      ),
    );
  };
}
