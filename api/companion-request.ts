import { z } from 'zod';
import { VISIBILITIES } from '../domain/visibility';
import { METADATA_KEY, METADATA_VALUE_MAX, MAX_USER_TAGS, metadataJsonSchema } from './schemas';

/**
 * Translates what Uppy's `@uppy/aws-s3` (v5, Companion mode) sends into Assetline's own upload request, which
 * the routes then validate like any other. Uppy sends the file's `meta` with every value a string: its own `name`,
 * `type` and `relativePath`, plus whatever the page set. Companion's create carries no size, and the workflow
 * checks the stored size against the declared one, so the page puts the size in the meta (`size`, bytes): quota is
 * decided up front, as for any other upload, instead of after the bytes are in.
 */
const UPPY_OWN_META = new Set(['name', 'type', 'relativePath']);

/** A regex for the decimal numbers 1..max (no leading zeros), so the document states the size limit exactly. */
export function decimalUpTo(max: number): string {
  const digits = String(max);
  const alternatives = digits.length > 1 ? [`[1-9][0-9]{0,${digits.length - 2}}`] : [];
  for (let i = 0; i < digits.length; i++) {
    const d = Number(digits[i]);
    const low = i === 0 ? 1 : 0;
    const rest = digits.length - i - 1;
    if (d > low) alternatives.push(`${digits.slice(0, i)}[${low}-${d - 1}]${rest ? `[0-9]{${rest}}` : ''}`);
  }
  alternatives.push(digits);
  return `^(?:${alternatives.join('|')})$`;
}

/**
 * Every entry is a string under the user-tag rules (keys and values), Uppy's own included, and there are at most
 * MAX_USER_TAGS of them in all: what /openapi.json states (companionMetadataJsonSchema), checked before the upload
 * request is built.
 */
export const companionMetadataSchema = (maxUploadBytes: number) =>
  z
    .object({
      size: z
        .string()
        .regex(
          new RegExp(decimalUpTo(maxUploadBytes)),
          `must be the file's size in bytes, 1 to MAX_UPLOAD_BYTES (${maxUploadBytes}); with Uppy: ` +
            'setFileMeta(file.id, { size: file.size })',
        ),
      sha256: z.string().optional(),
      visibility: z.string().optional(),
    })
    .catchall(
      z
        .string()
        .max(METADATA_VALUE_MAX)
        // Postgres text cannot hold NUL.
        // eslint-disable-next-line no-control-regex
        .regex(/^[^\u0000]*$/u, 'must not contain NUL characters'),
    )
    .superRefine((m, ctx) => {
      const keys = Object.keys(m);
      if (keys.length > MAX_USER_TAGS)
        ctx.addIssue({ code: 'custom', message: `has more than ${MAX_USER_TAGS} entries` });
      for (const key of keys) {
        if (!METADATA_KEY.test(key) || key.startsWith('media.'))
          ctx.addIssue({ code: 'custom', path: [key], message: 'is not a valid metadata key' });
      }
    });

export function companionMetadataJsonSchema(maxUploadBytes: number) {
  return {
    ...metadataJsonSchema,
    required: ['size'],
    properties: {
      size: { type: 'string', pattern: decimalUpTo(maxUploadBytes) },
      sha256: { type: 'string', pattern: '^[0-9a-fA-F]{64}$' },
      visibility: { enum: [...VISIBILITIES] },
    },
  };
}

export const companionCreateSchema = (maxUploadBytes: number) =>
  z
    .object({ filename: z.string(), type: z.string(), metadata: companionMetadataSchema(maxUploadBytes) })
    .strict();

export function uploadRequestFromCompanion(
  filename: string,
  type: string,
  metadata: z.output<ReturnType<typeof companionMetadataSchema>>,
  multipart: boolean,
): Record<string, unknown> {
  const { size, sha256, visibility, ...rest } = metadata;
  const tags = Object.fromEntries(Object.entries(rest).filter(([k]) => !UPPY_OWN_META.has(k)));
  return {
    filename,
    contentType: type,
    sizeBytes: Number(size),
    multipart,
    ...(sha256 !== undefined ? { checksumSha256: sha256 } : {}),
    ...(visibility !== undefined ? { visibility } : {}),
    ...(Object.keys(tags).length > 0 ? { metadata: tags } : {}),
  };
}

/** `metadata[k]=v` query parameters, as Uppy sends them to GET /s3/params (the API's query parser is 'simple'). */
export function metadataFromQuery(query: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(query).flatMap(([k, v]) => {
      const m = /^metadata\[(.+)\]$/.exec(k);
      return m ? [[m[1]!, v]] : [];
    }),
  );
}
