import type { ConnectionLike } from '@temporalio/client';
import proto from '@temporalio/proto';
import { SEARCH_ATTRIBUTES } from '../workflows/definitions';
import type { Logger } from '../infra/logger';

// @temporalio/proto is CommonJS: its namespace is reachable only through the default export under ESM.
const INDEXED = proto.temporal.api.enums.v1.IndexedValueType;
const TYPES: Record<string, proto.temporal.api.enums.v1.IndexedValueType> = {
  KEYWORD: INDEXED.INDEXED_VALUE_TYPE_KEYWORD,
  INT: INDEXED.INDEXED_VALUE_TYPE_INT,
  DATETIME: INDEXED.INDEXED_VALUE_TYPE_DATETIME,
};

const GRPC_UNIMPLEMENTED = 12;

/** Adds whichever of the platform's search attributes the namespace lacks; returns their names. */
export async function registerSearchAttributes(
  connection: ConnectionLike,
  namespace: string,
): Promise<string[]> {
  const wanted = Object.fromEntries(SEARCH_ATTRIBUTES.map((k) => [k.name, TYPES[k.type]!]));
  const existing = await connection.operatorService.listSearchAttributes({ namespace }).then(
    (r) => r.customAttributes ?? {},
    (err: { code?: number }) => {
      // Temporal's Java test server can add search attributes but not list them.
      if (err.code === GRPC_UNIMPLEMENTED) return {};
      throw err;
    },
  );
  const missing = Object.fromEntries(Object.entries(wanted).filter(([name]) => !(name in existing)));
  if (Object.keys(missing).length === 0) return [];
  await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: missing });
  return Object.keys(missing);
}

/**
 * Registers the custom search attributes so operators can filter assets in the Temporal UI. On Temporal Cloud,
 * where the operator API is not open to workers, it logs what to create by hand instead of failing.
 */
export async function ensureSearchAttributes(
  connection: ConnectionLike,
  namespace: string,
  logger: Logger,
): Promise<void> {
  try {
    const added = await registerSearchAttributes(connection, namespace);
    if (added.length > 0) logger.info({ added }, 'registered search attributes');
  } catch (err) {
    logger.warn(
      { err: (err as Error).message, wanted: SEARCH_ATTRIBUTES.map((k) => `${k.name}=${k.type}`) },
      'could not register search attributes; create them with `temporal operator search-attribute create`',
    );
  }
}
