import { z } from 'zod';
import { tcpPort } from './parsers';

/**
 * `npm start` only (scripts/start.ts): where its embedded servers keep their data and which ports they take. Set
 * apart so the API and the worker never read them, and the compose test keeps them out of the containers.
 */
export const local = {
  /** Relative to the repository. */
  ASSETLINE_DATA_DIR: z.string().min(1).default('.data'),
  ASSETLINE_POSTGRES_PORT: tcpPort.default(55432),
  ASSETLINE_S3_PORT: tcpPort.default(9000),
  ASSETLINE_TEMPORAL_PORT: tcpPort.default(7233),
  ASSETLINE_TEMPORAL_UI_PORT: tcpPort.default(8233),
  ASSETLINE_DELIVERY_PORT: tcpPort.default(8080),
  ASSETLINE_CLAMD_PORT: tcpPort.default(53310),
  ASSETLINE_REDIS_PORT: tcpPort.default(56379),
};
