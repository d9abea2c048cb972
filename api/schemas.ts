import { z } from 'zod';
import { ALLOWED_CONTENT_TYPES, normaliseContentType } from '../shared/media-types';
import { badRequest } from './problem';

// Bidi overrides make "gpj.exe" display as "exe.jpg"; control characters break logs and headers.
// eslint-disable-next-line no-control-regex
const UNSAFE_FILENAME = /[\u0000-\u001f\u007f\u202a-\u202e\u2066-\u2069/\\]/;

export const filenameSchema = z
  .string()
  .min(1, 'must not be empty')
  .refine((v) => Buffer.byteLength(v, 'utf8') <= 255, 'must be at most 255 bytes')
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

export const metadataSchema = z
  .record(z.string(), z.string().max(1024, 'metadata values are at most 1024 characters'))
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

export function uploadRequestSchema(maxUploadBytes: number) {
  return z
    .object({
      filename: filenameSchema,
      contentType: z
        .string()
        .transform(normaliseContentType)
        .refine((t) => t in ALLOWED_CONTENT_TYPES, {
          message: `is not an allowed type; allowed: ${Object.keys(ALLOWED_CONTENT_TYPES).join(', ')}`,
        }),
      sizeBytes: z
        .number()
        .int('must be a whole number of bytes')
        .min(1, 'must be at least 1 byte')
        .max(maxUploadBytes, `must be at most MAX_UPLOAD_BYTES (${maxUploadBytes})`),
      checksumSha256: z
        .string()
        .regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hexadecimal characters')
        .transform((v) => v.toLowerCase())
        .optional(),
      metadata: metadataSchema.optional(),
      /** Ask for a multipart upload below the size threshold too (e.g. unreliable mobile networks). */
      multipart: z.boolean().optional(),
      /** Retention: the asset is purged at this moment (ISO 8601); overrides the owner's retention policy. */
      expiresAt: z.iso
        .datetime({ offset: true, message: 'must be an ISO 8601 date-time' })
        .refine((v) => Date.parse(v) > Date.now(), 'must be in the future')
        .optional(),
    })
    .strict();
}

export const assetIdSchema = z.uuid();

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
    const field = i.path.length ? i.path.join('.') : what;
    const message =
      i.code === 'invalid_type' && valueAt(value, i.path) === undefined
        ? 'is required'
        : i.code === 'unrecognized_keys'
          ? `has unknown field(s): ${i.keys.join(', ')}`
          : i.message;
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
