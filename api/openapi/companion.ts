import type { ApiDeps } from '../deps';
import { ALLOWED_CONTENT_TYPES } from '../../domain/media-types';
import { filenameJsonSchema, MAX_USER_TAGS } from '../schemas';
import { MAX_PARTS } from '../upload-session';
import { fromZod, json, jsonBody, object, problems, uuid, type ApiArea, type Json } from './common';
import { companionMetadataJsonSchema } from '../companion-request';
import { companionCompleteBody, companionMaxParts } from '../routes/companion';

/** Companion's S3 protocol (api/routes/companion.ts), as `@uppy/aws-s3` v5 calls it with `endpoint`. */

const tags = ['uploads (Uppy)'];
const keyParameter: Json = {
  name: 'key',
  in: 'query',
  required: true,
  description: 'The object key POST /s3/multipart answered (`uploads/<owner>/<assetId>`).',
  schema: { type: 'string', minLength: 1 },
};
const uploadIdParameter: Json = { name: 'uploadId', in: 'path', required: true, schema: { type: 'string' } };
const partNumberSchema: Json = { type: 'integer', minimum: 1, maximum: MAX_PARTS };

const createProblems = problems(400, [403, 'The upload would exceed the owner quota.']);
const sessionProblems = (what: string) =>
  problems(
    400,
    [403, 'The caller may read the asset but not write it.'],
    [404, `No such asset, or the upload id is not this key's: ${what}.`],
    [409, 'The upload is over (the asset is no longer pending) or its window has closed.'],
  );

export function companionArea({ maxUploadBytes }: ApiDeps['settings']): ApiArea {
  const contentType: Json = { enum: Object.keys(ALLOWED_CONTENT_TYPES) };
  const metadata: Json = {
    ...companionMetadataJsonSchema(maxUploadBytes),
    description:
      'Uppy sends the file meta, every value a string, under the user-tag rules for keys and values (at most ' +
      `${MAX_USER_TAGS} entries in all). \`size\` (bytes, at most MAX_UPLOAD_BYTES) is required: Companion's ` +
      'protocol carries no size, and the stored size must match it. `sha256` and `visibility` are the upload ' +
      "fields of those names; Uppy's own `name`, `type` and `relativePath` are ignored; any other entry is a tag.",
  };
  const maxParts = companionMaxParts(maxUploadBytes);
  return {
    paths: {
      '/s3/params': {
        get: {
          operationId: 'companionSingleUpload',
          tags,
          summary: 'A pending asset and a pre-signed PUT for it; S3 event notifications complete it',
          parameters: [
            { name: 'filename', in: 'query', required: true, schema: filenameJsonSchema },
            { name: 'type', in: 'query', required: true, schema: contentType },
            {
              name: 'metadata',
              in: 'query',
              required: true,
              style: 'deepObject',
              explode: true,
              schema: metadata,
            },
          ],
          responses: {
            200: json(
              'Where to PUT the bytes',
              object({
                method: { const: 'PUT' },
                url: { type: 'string', format: 'uri' },
                fields: object({}),
                headers: { type: 'object', additionalProperties: { type: 'string' } },
                key: { type: 'string' },
                assetId: uuid,
              }),
            ),
            ...createProblems,
          },
        },
      },
      '/s3/multipart': {
        post: {
          operationId: 'companionCreateMultipart',
          tags,
          summary: 'A pending asset with a multipart upload',
          requestBody: jsonBody(
            object({ filename: filenameJsonSchema, type: contentType, metadata: metadata }),
          ),
          responses: {
            200: json(
              'The upload to send parts to',
              object({ uploadId: { type: 'string' }, key: { type: 'string' }, assetId: uuid }),
            ),
            ...createProblems,
          },
        },
      },
      '/s3/multipart/{uploadId}': {
        get: {
          operationId: 'companionListParts',
          tags,
          summary: 'The parts S3 holds, so an interrupted upload resumes without sending them again',
          parameters: [uploadIdParameter, keyParameter],
          responses: {
            200: json('Stored parts', {
              type: 'array',
              items: object({
                PartNumber: { type: 'integer' },
                Size: { type: 'integer' },
                ETag: { type: 'string' },
              }),
            }),
            ...sessionProblems('or it is completed or aborted'),
          },
        },
        delete: {
          operationId: 'companionAbortMultipart',
          tags,
          summary: 'Abort the upload; the asset is deleted',
          parameters: [uploadIdParameter, keyParameter],
          responses: {
            200: json('Aborted', object({ assetId: uuid, status: { const: 'deleted' } })),
            ...sessionProblems('as with GET'),
          },
        },
      },
      '/s3/multipart/{uploadId}/batch': {
        get: {
          operationId: 'companionSignParts',
          tags,
          summary: 'Pre-signed URLs for several parts, valid until the upload window closes',
          parameters: [
            uploadIdParameter,
            keyParameter,
            {
              name: 'partNumbers',
              in: 'query',
              required: true,
              description: `1 to 100 comma-separated part numbers, each 1 to ${MAX_PARTS}.`,
              schema: { type: 'string', pattern: '^[1-9][0-9]{0,3}(,[1-9][0-9]{0,3}){0,99}$' },
            },
          ],
          responses: {
            200: json(
              'One URL per part number',
              object({
                presignedUrls: { type: 'object', additionalProperties: { type: 'string', format: 'uri' } },
              }),
            ),
            ...sessionProblems('as with GET'),
          },
        },
      },
      '/s3/multipart/{uploadId}/{partNumber}': {
        get: {
          operationId: 'companionSignPart',
          tags,
          summary: 'A pre-signed URL for one part',
          parameters: [
            uploadIdParameter,
            { name: 'partNumber', in: 'path', required: true, schema: partNumberSchema },
            keyParameter,
          ],
          responses: {
            200: json(
              'PUT the part here; `expires` is in seconds',
              object({ url: { type: 'string', format: 'uri' }, expires: { type: 'integer', minimum: 1 } }),
            ),
            ...sessionProblems('as with GET'),
          },
        },
      },
      '/s3/multipart/{uploadId}/complete': {
        post: {
          operationId: 'companionCompleteMultipart',
          tags,
          summary: 'Assemble the parts and start processing',
          parameters: [uploadIdParameter, keyParameter],
          requestBody: jsonBody(fromZod(companionCompleteBody(maxParts))),
          responses: {
            200: json(
              'Processing starts (or already has); `location` is the asset',
              object({
                location: { type: 'string', format: 'uri' },
                key: { type: 'string' },
                assetId: uuid,
                status: { type: 'string' },
              }),
            ),
            ...sessionProblems('as with GET'),
          },
        },
      },
    },
  };
}
