import type { Client } from '@temporalio/client';
import { accessedSignal, assetWorkflowId } from '../workflows/definitions';
import type { Logger } from '../shared/logger';

/**
 * Signals each read asset's workflow once per access flush. A workflow that has ended (deleted, purged) cannot
 * be signalled; that is expected and only logged at debug.
 */
export function signalAccessed(temporal: Client, logger: Logger) {
  return async (assetIds: string[]): Promise<void> => {
    const at = new Date().toISOString();
    await Promise.all(
      assetIds.map((id) =>
        temporal.workflow
          .getHandle(assetWorkflowId(id))
          .signal(accessedSignal, { at })
          .catch((err: unknown) => logger.debug({ err, assetId: id }, 'accessed signal not delivered')),
      ),
    );
  };
}
