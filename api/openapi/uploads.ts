import type { ApiDeps } from '../deps';
import { completeBodySchema } from '../routes/uploads';
import { maxPartsFor } from '../upload-session';
import { filenameJsonSchema, metadataJsonSchema, uploadRequestSchema } from '../schemas';
import { regionsBodyExtras } from './regions';
import {
  annotate,
  ASSET_OPERATIONS,
  assetIdParameter,
  linksTo,
  dateTime,
  fromZod,
  json,
  nullable,
  jsonBody,
  object,
  problems,
  ref,
  uuid,
  type ApiArea,
} from './common';

const presignedPart = object({
  partNumber: { type: 'integer', minimum: 1 },
  url: { type: 'string', format: 'uri' },
});

const putUpload = object({
  method: { const: 'PUT' },
  url: { type: 'string', format: 'uri' },
  headers: {
    type: 'object',
    additionalProperties: { type: 'string' },
    description: 'Send exactly these with the PUT: they are part of the signature.',
  },
  expiresAt: dateTime,
});

const multipartUpload = object({
  method: { const: 'MULTIPART' },
  uploadId: { type: 'string' },
  partSizeBytes: { type: 'integer', description: 'Every part but the last has exactly this size.' },
  parts: { type: 'array', items: presignedPart },
  expiresAt: dateTime,
});

const quota: [number, string] = [
  403,
  'The upload would exceed the owner quota (the problem adds `limits` and `usage`).',
];

/** api/routes/uploads.ts: upload sessions. */
export function uploadsArea({ maxUploadBytes, multipartPartBytes }: ApiDeps['settings']): ApiArea {
  const parameters = [assetIdParameter];
  const request = annotate(fromZod(uploadRequestSchema(maxUploadBytes)), {
    filename: filenameJsonSchema,
    contentType: { description: 'The declared type; the bytes are sniffed and must agree.' },
    metadata: { ...metadataJsonSchema, description: 'User tags.' },
    regions: regionsBodyExtras,
    multipart: { description: 'Ask for a multipart upload below MULTIPART_THRESHOLD_BYTES too.' },
    expiresAt: { description: 'Retention: purged at this moment; must be in the future (400 otherwise).' },
    visibility: { description: 'Absent: DEFAULT_VISIBILITY (private unless configured).' },
    publishAt: { description: 'A scheduled release, as PUT /media/{id}/visibility takes it.' },
    unpublishAt: { description: 'From then on the asset is private again.' },
  });
  return {
    paths: {
      '/media/upload-url': {
        post: {
          operationId: 'requestUpload',
          tags: ['uploads'],
          summary: 'Create a pending asset and pre-signed URL(s) to upload its bytes to',
          parameters: [
            {
              name: 'Idempotency-Key',
              in: 'header',
              required: false,
              description:
                "The client's key for this upload session, unique per owner: the same request again (after a crash, " +
                'a lost answer) resumes the same asset (200) instead of creating another; a different request under ' +
                'the same key is 409.',
              schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,255}$' },
            },
          ],
          requestBody: jsonBody(request),
          responses: {
            200: json(
              'The session this Idempotency-Key began: renewed with fresh URLs while pending; `upload` is null once it is not',
              object({
                assetId: uuid,
                status: ref('AssetStatus'),
                upload: nullable({ oneOf: [putUpload, multipartUpload] }),
              }),
            ),
            201: {
              ...json(
                'The asset is pending until its upload completes',
                object({
                  assetId: uuid,
                  status: { const: 'pending' },
                  upload: { oneOf: [putUpload, multipartUpload] },
                }),
              ),
              links: linksTo(ASSET_OPERATIONS),
            },
            ...problems(400, 401, [409, 'This Idempotency-Key was used for a different upload.'], quota, 503),
          },
        },
      },
      '/media/{id}/upload/renew': {
        post: {
          operationId: 'renewUpload',
          tags: ['uploads'],
          summary:
            'Renew a pending session (write permission): fresh URLs, its expiry moved, while its multipart upload exists and it is younger than UPLOAD_SESSION_MAX_AGE_SECONDS',
          parameters,
          responses: {
            200: json(
              'Fresh URLs (for a multipart upload, every part: GET /media/{id}/upload says which are stored)',
              object({
                assetId: uuid,
                status: { const: 'pending' },
                upload: { oneOf: [putUpload, multipartUpload] },
              }),
            ),
            ...problems(
              400,
              401,
              [403, 'The caller may read the asset but not write it.'],
              404,
              [
                409,
                'The asset is not pending, the session is older than UPLOAD_SESSION_MAX_AGE_SECONDS, or its multipart upload is gone.',
              ],
              503,
            ),
          },
        },
      },
      '/media/{id}/complete': {
        post: {
          operationId: 'completeUpload',
          tags: ['uploads'],
          summary: 'Tell the platform the upload is done (write permission); repeating it is harmless',
          description:
            "A multipart upload's parts are checked against what storage holds (each part stored with that ETag, " +
            "every part but the last at least 5 MiB) and the answer comes at once: the asset's workflow joins the " +
            "parts into one object at its verify stage, so no request waits on the storage's join of a large object.",
          parameters,
          requestBody: jsonBody(
            annotate(fromZod(completeBodySchema(maxPartsFor(maxUploadBytes, multipartPartBytes))), {
              parts: {
                description:
                  'Required for a multipart upload: every part with the ETag S3 answered, in any order; ignored ' +
                  'for a single PUT.',
              },
              checksumSha256: {
                description:
                  'The SHA-256 the client computed while sending: the stored bytes must hash to it, or the asset ' +
                  'is rejected at verify. 409 when it contradicts the checksumSha256 declared at upload-url.',
              },
            }),
            false,
          ),
          responses: {
            202: json('Processing starts (or already has)', ref('AssetStatusChange')),
            ...problems(
              400,
              401,
              [403, 'The caller may read the asset but not write it.'],
              404,
              [
                409,
                'A multipart upload without `parts`, a part listed twice, parts that do not match what storage ' +
                  'holds (InvalidPart, EntityTooSmall; see GET /media/{id}/upload), a multipart upload that is gone, ' +
                  'or a checksumSha256 other than the one declared at upload-url.',
              ],
              503,
            ),
          },
        },
      },
      '/media/{id}/upload': {
        get: {
          operationId: 'getUpload',
          tags: ['uploads'],
          summary: 'Resume: what has arrived, and fresh URLs for the missing parts (write permission)',
          parameters,
          responses: {
            200: json('The upload session', {
              oneOf: [
                object({ method: { const: 'PUT' }, received: { type: 'boolean' } }),
                object({
                  method: { const: 'MULTIPART' },
                  uploadId: { type: 'string' },
                  partSizeBytes: { type: 'integer' },
                  expiresAt: dateTime,
                  parts: {
                    type: 'array',
                    description: 'The parts S3 already holds.',
                    items: object({
                      partNumber: { type: 'integer' },
                      etag: { type: 'string' },
                      sizeBytes: { type: 'integer' },
                    }),
                  },
                  missing: {
                    type: 'array',
                    items: presignedPart,
                    description: 'Fresh URLs for the rest; empty once the session has expired.',
                  },
                }),
              ],
            }),
            ...problems(400, 401, [403, 'The caller may read the asset but not write it.'], 404, [
              409,
              'The upload is over: the asset is no longer pending.',
            ]),
          },
        },
        delete: {
          operationId: 'abortUpload',
          tags: ['uploads'],
          summary: 'Abort a pending upload (write permission); the asset is deleted',
          parameters,
          responses: {
            202: json('Aborted', object({ assetId: uuid, status: { const: 'deleted' } })),
            ...problems(
              400,
              401,
              [403, 'The caller may read the asset but not write it.'],
              404,
              [409, 'The upload is over: the asset is no longer pending.'],
              503,
            ),
          },
        },
      },
    },
  };
}
