import { z } from 'zod';
import { bool, bucketName, positiveInt, url } from './parsers';

/** What both the API and the worker connect to: Postgres, S3 (and its replica), Temporal; and how they log. */

export const database = {
  DATABASE_URL: url(['postgres:', 'postgresql:']),
  DATABASE_POOL_SIZE: positiveInt.max(200).default(10),
};

export const s3 = {
  S3_ENDPOINT: url(['http:', 'https:']).optional(),
  /** Where clients reach S3 for pre-signed URLs when it differs from the endpoint the services use. */
  S3_PUBLIC_ENDPOINT: url(['http:', 'https:']).optional(),
  S3_REGION: z.string().min(1).default('us-east-1'),
  S3_BUCKET: bucketName(),
  S3_ACCESS_KEY_ID: z.string().min(1),
  S3_SECRET_ACCESS_KEY: z.string().min(1),
  S3_FORCE_PATH_STYLE: bool.default(true),
  /** A second bucket holding a copy of every blob: reads fail over to it, integrity scans repair from it. */
  REPLICA_S3_BUCKET: bucketName().optional(),
  /** The replica's endpoint and credentials default to the primary's. */
  REPLICA_S3_ENDPOINT: url(['http:', 'https:']).optional(),
  REPLICA_S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  REPLICA_S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
};

export const temporal = {
  TEMPORAL_ADDRESS: z
    .string()
    .regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port')
    .default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('assetline'),
  /** Temporal Cloud: an API key implies TLS. */
  TEMPORAL_API_KEY: z.string().min(1).optional(),
  TEMPORAL_TLS: bool.default(false),
};

export const logging = {
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
};
