import { Router } from 'express';
import type { ApiDeps } from '../deps';
import { openapiDocument } from '../openapi/document';

/** `GET /openapi.json`, without a token: the description of the API is no secret. */
export function openapiRoutes(deps: ApiDeps): Router {
  const router = Router();
  const document = openapiDocument(deps.settings);
  router.get('/openapi.json', (_req, res) => {
    res.json(document);
  });
  return router;
}
