import { Router, type ErrorRequestHandler, type Request } from 'express';
import { z } from 'zod';
import { parseOr400, uploadRequestSchema } from '../schemas';
import { principalOf, type RouteContext } from '../route-context';
import {
  companionCreateSchema,
  companionMetadataSchema,
  metadataFromQuery,
  uploadRequestFromCompanion,
} from '../companion-request';
import { HttpProblem, problemOf } from '../problem';
import { MAX_PARTS, maxPartsFor } from '../upload-session';

const partNumber = z.coerce.number().int().min(1).max(MAX_PARTS);
const keyQuery = z.object({ key: z.string().min(1) });
export const companionBatchQuery = keyQuery.extend({
  partNumbers: z
    .string()
    .regex(/^\d{1,5}(,\d{1,5}){0,99}$/, 'must be 1 to 100 comma-separated part numbers')
    .transform((v) => v.split(',').map(Number))
    .refine((ns) => ns.every((n) => n >= 1 && n <= MAX_PARTS), `part numbers are 1 to ${MAX_PARTS}`),
});
const paramsQuery = z.object({ filename: z.string(), type: z.string() });
/** Which query parameters /s3/params reads besides `metadata[...]`. */
export const companionParamsQuery = paramsQuery;
/**
 * Uppy picks its own part size, down to S3's 5 MiB: the most parts an upload here can have is that of the largest
 * upload in 5 MiB parts (which keeps the part list of a MAX_UPLOAD_BYTES upload within the JSON body limit).
 */
export const companionMaxParts = (maxUploadBytes: number) => maxPartsFor(maxUploadBytes, 5 * 1024 ** 2);
export const companionCompleteBody = (maxParts: number) =>
  z
    .object({
      parts: z
        .array(
          z
            .object({
              PartNumber: z.number().int().min(1).max(maxParts),
              ETag: z.string().regex(/^[!-~]{1,200}$/),
            })
            .strict(),
        )
        .min(1)
        .max(maxParts),
    })
    .strict();

/** Where a completed upload's asset is, for Uppy's `location`. */
const assetUrl = (req: Request, assetId: string) => `${req.protocol}://${req.get('host')}/media/${assetId}`;

/**
 * Uppy shows a 4xx body's `message` to the user (@uppy/companion-client); a problem carries it beside `detail`.
 */
const withMessage: ErrorRequestHandler = (err, _req, _res, next) => {
  const p = err instanceof HttpProblem ? err : problemOf(err);
  if (!p) return next(err);
  next(new HttpProblem(p.status, p.title, p.detail, { ...p.extra, message: p.detail }, p.headers));
};

/** Companion's S3 routes, for stock `@uppy/aws-s3` with `endpoint` set to the API and the bearer in `headers`. */
export function companionRoutes({ deps, services }: RouteContext): Router {
  const router = Router();
  const { companion } = services;
  const { maxUploadBytes } = deps.settings;
  const uploadRequest = uploadRequestSchema(maxUploadBytes);
  const createBody = companionCreateSchema(maxUploadBytes);
  const paramsMetadata = z.object({ metadata: companionMetadataSchema(maxUploadBytes) });
  const completeBody = companionCompleteBody(companionMaxParts(maxUploadBytes));
  const toRequest = (
    filename: string,
    type: string,
    metadata: z.output<ReturnType<typeof companionMetadataSchema>>,
    multipart: boolean,
  ) => parseOr400(uploadRequest, uploadRequestFromCompanion(filename, type, metadata, multipart), 'upload');

  router.get('/s3/params', async (req, res) => {
    const query = parseOr400(paramsQuery, req.query, 'query');
    const { metadata } = parseOr400(paramsMetadata, { metadata: metadataFromQuery(req.query) }, 'query');
    const request = toRequest(query.filename, query.type, metadata, false);
    const { answer, startWorkflow } = await companion.createSingle(principalOf(req), request);
    res.json(answer);
    startWorkflow();
  });

  router.post('/s3/multipart', async (req, res) => {
    const body = parseOr400(createBody, req.body ?? {});
    const request = toRequest(body.filename, body.type, body.metadata ?? {}, true);
    const { answer, startWorkflow } = await companion.createMultipart(principalOf(req), request);
    res.json(answer);
    startWorkflow();
  });

  router.get('/s3/multipart/:uploadId', async (req, res) => {
    const { key } = parseOr400(keyQuery, req.query, 'query');
    res.json(await companion.listParts(principalOf(req), req.params.uploadId, key));
  });

  router.get('/s3/multipart/:uploadId/batch', async (req, res) => {
    const { key, partNumbers } = parseOr400(companionBatchQuery, req.query, 'query');
    const { urls } = await companion.signParts(principalOf(req), req.params.uploadId, key, partNumbers);
    res.json({ presignedUrls: Object.fromEntries(partNumbers.map((n, i) => [String(n), urls[i]])) });
  });

  router.get('/s3/multipart/:uploadId/:partNumber', async (req, res) => {
    const { key } = parseOr400(keyQuery, req.query, 'query');
    const n = parseOr400(partNumber, req.params.partNumber, 'partNumber');
    const { urls, expires } = await companion.signParts(principalOf(req), req.params.uploadId, key, [n]);
    res.json({ url: urls[0], expires });
  });

  router.post('/s3/multipart/:uploadId/complete', async (req, res) => {
    const { key } = parseOr400(keyQuery, req.query, 'query');
    const body = parseOr400(completeBody, req.body ?? {});
    const parts = body.parts.map((p) => ({ partNumber: p.PartNumber, etag: p.ETag }));
    const done = await companion.complete(principalOf(req), req.params.uploadId, key, parts);
    res.json({ location: assetUrl(req, done.assetId), ...done });
  });

  router.delete('/s3/multipart/:uploadId', async (req, res) => {
    const { key } = parseOr400(keyQuery, req.query, 'query');
    res.json(await companion.abort(principalOf(req), req.params.uploadId, key));
  });

  router.use(withMessage);
  return router;
}
