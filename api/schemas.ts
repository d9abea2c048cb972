import { z } from 'zod';
import { VISIBILITIES } from '../domain/visibility';
import { ALLOWED_CONTENT_TYPES } from '../domain/media-types';
import { badRequest } from './problem';
import { regionsBody } from './region-schema';

// Bidi overrides make "gpj.exe" display as "exe.jpg"; control characters break logs and headers.
// eslint-disable-next-line no-control-regex
const UNSAFE_FILENAME = /[\u0000-\u001f\u007f\u202a-\u202e\u2066-\u2069/\\]/;
export const FILENAME_MAX_BYTES = 255;
/** The same rules as a JSON Schema for the document (a length in bytes is only described there). */
export const filenameJsonSchema = {
  type: 'string',
  minLength: 1,
  maxLength: FILENAME_MAX_BYTES,
  pattern: `^[^${UNSAFE_FILENAME.source.slice(1, -1)}]+$`,
  not: { enum: ['.', '..'] },
  description: `At most ${FILENAME_MAX_BYTES} bytes of UTF-8; no path separators, control or bidi-override characters.`,
};

export const filenameSchema = z
  .string()
  .min(1, 'must not be empty')
  .refine(
    (v) => Buffer.byteLength(v, 'utf8') <= FILENAME_MAX_BYTES,
    `must be at most ${FILENAME_MAX_BYTES} bytes`,
  )
  .refine(
    (v) => !UNSAFE_FILENAME.test(v),
    'must not contain path separators, control or bidi-override characters',
  )
  .refine((v) => v !== '.' && v !== '..', 'must not be . or ..');

export const METADATA_KEY = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;
/** User tags per asset; the extracted media.* facts do not count. */
export const MAX_USER_TAGS = 50;

/** Why a key cannot be a user tag, or undefined when it can: for setting and removing alike. */
export function userMetadataKeyProblem(key: string): string | undefined {
  if (key.startsWith('media.')) return 'is reserved: media.* keys hold extracted media facts';
  if (!METADATA_KEY.test(key)) {
    return 'is not a valid key: metadata keys are 1-64 characters of letters, digits, _ . : -';
  }
  return undefined;
}

export const METADATA_VALUE_MAX = 1024;
// eslint-disable-next-line no-control-regex
const NO_NUL = /^[^\u0000]*$/u;

export const metadataSchema = z
  .record(
    z.string(),
    z
      .string()
      .max(METADATA_VALUE_MAX, `metadata values are at most ${METADATA_VALUE_MAX} characters`)
      // Postgres text cannot hold NUL.
      .regex(NO_NUL, 'metadata values must not contain NUL characters'),
  )
  .superRefine((m, ctx) => {
    const keys = Object.keys(m);
    if (keys.length > MAX_USER_TAGS) {
      ctx.addIssue({ code: 'custom', message: `has more than ${MAX_USER_TAGS} entries` });
    }
    for (const key of keys) {
      const message = userMetadataKeyProblem(key);
      if (message) ctx.addIssue({ code: 'custom', path: [key], message });
    }
  });

/** A user tag key, as the document states it: media.* is reserved. */
export const metadataKeyJsonSchema = {
  type: 'string',
  pattern: METADATA_KEY.source,
  not: { pattern: '^media\\.' },
};

/** metadataSchema as the document states it (its refinements are not in zod's JSON Schema). */
export const metadataJsonSchema = {
  type: 'object',
  maxProperties: MAX_USER_TAGS,
  propertyNames: metadataKeyJsonSchema,
  additionalProperties: { type: 'string', maxLength: METADATA_VALUE_MAX, pattern: NO_NUL.source },
};

const instant = z.iso.datetime({
  offset: true,
  message: 'must be an ISO 8601 date-time with an offset (Z or ±hh:mm)',
});

/**
 * Who may see an asset and from when to when (domain/visibility.ts). Whether the instants fit together (unpublishAt
 * after publishAt, no schedule for a draft) is decided by planRelease, which names the field.
 */
export const releaseFields = {
  visibility: z.enum(VISIBILITIES, `must be one of ${VISIBILITIES.join(', ')}`),
  /** Until then the asset stays a draft or private; in the past (or absent), the visibility applies now. */
  publishAt: instant.nullable().optional(),
  /** From then on the asset is private again (its owner and grantees keep it). */
  unpublishAt: instant.nullable().optional(),
};
export const releaseRequestSchema = z.object(releaseFields).strict();

/** A SHA-256 as clients send it: 64 hex characters, either case (kept lower-case). */
export const sha256Hex = z
  .string()
  .regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hexadecimal characters')
  .transform((v) => v.toLowerCase());

export function uploadRequestSchema(maxUploadBytes: number) {
  return z
    .object({
      filename: filenameSchema,
      // Exactly one of the list (the document's enum), as the client's SDK sends it: no case or parameters to undo.
      contentType: z.enum(
        Object.keys(ALLOWED_CONTENT_TYPES),
        `is not an allowed type; allowed: ${Object.keys(ALLOWED_CONTENT_TYPES).join(', ')}`,
      ),
      sizeBytes: z
        .number()
        .int('must be a whole number of bytes')
        .min(1, 'must be at least 1 byte')
        .max(maxUploadBytes, `must be at most MAX_UPLOAD_BYTES (${maxUploadBytes})`),
      checksumSha256: sha256Hex.optional(),
      metadata: metadataSchema.optional(),
      /** Where it may be watched, as PUT /media/:id/regions takes it; bound from the first delivery URL on. */
      regions: regionsBody.optional(),
      /** Ask for a multipart upload below the size threshold too (e.g. unreliable mobile networks). */
      multipart: z.boolean().optional(),
      /** Retention: the asset is purged at this moment (ISO 8601); overrides the owner's retention policy. */
      expiresAt: z.iso
        .datetime({ offset: true, message: 'must be an ISO 8601 date-time' })
        .refine((v) => Date.parse(v) > Date.now(), 'must be in the future')
        .optional(),
      /** Absent: DEFAULT_VISIBILITY. */
      visibility: releaseFields.visibility.optional(),
      publishAt: releaseFields.publishAt,
      unpublishAt: releaseFields.unpublishAt,
    })
    .strict();
}

export const assetIdSchema = z.uuid();

/** The client's key for its upload session (the IETF Idempotency-Key header): printable ASCII, at most 255. */
export const idempotencyKeySchema = z
  .string()
  .regex(/^[\x21-\x7e]{1,255}$/, 'must be 1 to 255 printable ASCII characters without spaces')
  .optional();

function valueAt(value: unknown, path: PropertyKey[]): unknown {
  return path.reduce<unknown>(
    (v, key) => (v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[key] : undefined),
    value,
  );
}

/** Parses or throws a 400 whose detail names each offending field. */
export function parseOr400<T extends z.ZodType>(
  schema: T,
  value: unknown,
  what = 'request body',
): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => {
    const given = valueAt(value, i.path);
    // A malformed or unexpected short value is named, so a list's bad entry is found without counting.
    const shown =
      (i.code === 'invalid_format' || i.code === 'invalid_value') &&
      ((typeof given === 'string' && given.length <= 64) || typeof given === 'number')
        ? ` (got ${JSON.stringify(given)})`
        : '';
    const field = i.path.length ? i.path.join('.') : what;
    const message =
      (i.code === 'invalid_type' || i.code === 'invalid_value') && given === undefined
        ? 'is required'
        : i.code === 'unrecognized_keys'
          ? `has unknown field(s): ${i.keys.join(', ')}`
          : i.message + shown;
    return { field, message };
  });
  throw badRequest(`invalid ${what}: ${problems.map((p) => `${p.field} ${p.message}`).join('; ')}`, {
    errors: problems,
  });
}

export function parseAssetId(value: unknown): string {
  const result = assetIdSchema.safeParse(value);
  if (!result.success) throw badRequest(`asset id ${JSON.stringify(value)} is not a UUID`);
  return result.data.toLowerCase();
}
