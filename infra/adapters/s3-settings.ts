export interface S3Settings {
  endpoint?: string | undefined;
  publicEndpoint?: string | undefined;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  forcePathStyle: boolean;
  /** The storage class objects are written with (a tier's STANDARD_IA, GLACIER_IR); unset: the bucket's default. */
  storageClass?: string | undefined;
}

export function s3Settings(config: {
  S3_ENDPOINT?: string | undefined;
  S3_PUBLIC_ENDPOINT?: string | undefined;
  S3_REGION: string;
  S3_BUCKET: string;
  S3_ACCESS_KEY_ID: string;
  S3_SECRET_ACCESS_KEY: string;
  S3_FORCE_PATH_STYLE: boolean;
}): S3Settings {
  return {
    endpoint: config.S3_ENDPOINT,
    publicEndpoint: config.S3_PUBLIC_ENDPOINT,
    region: config.S3_REGION,
    bucket: config.S3_BUCKET,
    accessKeyId: config.S3_ACCESS_KEY_ID,
    secretAccessKey: config.S3_SECRET_ACCESS_KEY,
    forcePathStyle: config.S3_FORCE_PATH_STYLE,
  };
}

/** The replica bucket's settings, its endpoint and credentials defaulting to the primary's; null without one. */
export function replicaS3Settings(
  config: Parameters<typeof s3Settings>[0] & {
    REPLICA_S3_BUCKET?: string | undefined;
    REPLICA_S3_ENDPOINT?: string | undefined;
    REPLICA_S3_ACCESS_KEY_ID?: string | undefined;
    REPLICA_S3_SECRET_ACCESS_KEY?: string | undefined;
  },
): S3Settings | null {
  if (!config.REPLICA_S3_BUCKET) return null;
  const primary = s3Settings(config);
  return {
    ...primary,
    // Pre-signed URLs always point at the primary: clients never write to the replica.
    publicEndpoint: undefined,
    endpoint: config.REPLICA_S3_ENDPOINT ?? primary.endpoint,
    bucket: config.REPLICA_S3_BUCKET,
    accessKeyId: config.REPLICA_S3_ACCESS_KEY_ID ?? primary.accessKeyId,
    secretAccessKey: config.REPLICA_S3_SECRET_ACCESS_KEY ?? primary.secretAccessKey,
  };
}

/** The warm and cold tiers' buckets: the primary's endpoint and credentials, another bucket each. */
export function tierS3Settings(
  config: Parameters<typeof s3Settings>[0] & {
    WARM_S3_BUCKET?: string | undefined;
    COLD_S3_BUCKET?: string | undefined;
    WARM_S3_STORAGE_CLASS?: string | undefined;
    COLD_S3_STORAGE_CLASS?: string | undefined;
  },
): { warm: S3Settings; cold: S3Settings } {
  const primary = { ...s3Settings(config), publicEndpoint: undefined };
  return {
    warm: {
      ...primary,
      bucket: config.WARM_S3_BUCKET ?? `${config.S3_BUCKET}-warm`,
      storageClass: config.WARM_S3_STORAGE_CLASS,
    },
    cold: {
      ...primary,
      bucket: config.COLD_S3_BUCKET ?? `${config.S3_BUCKET}-cold`,
      storageClass: config.COLD_S3_STORAGE_CLASS,
    },
  };
}
