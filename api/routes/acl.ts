import { Router } from 'express';
import { z } from 'zod';
import type { Grant } from '../../infra/adapters/access-repository';
import { parseAssetId, parseOr400 } from '../schemas';
import { principalOf, type RouteContext } from '../route-context';

const PRINCIPAL = /^(user:[1-9]\d{0,18}|group:[A-Za-z0-9_.:-]{1,64})$/;

export const aclBody = z
  .object({
    grants: z
      .array(
        z.object({
          principal: z
            .string()
            .regex(
              PRINCIPAL,
              "must be user:<id> or group:<name>; everyone ('*') is not a grant but a visibility: PUT /media/{id}/visibility",
            ),
          permission: z.enum(['read', 'write', 'delete']),
        }),
      )
      .max(200, 'at most 200 grants'),
  })
  .strict();

/** Who besides the owner may read, change or delete an asset. */
export function aclRoutes({ services }: RouteContext): Router {
  const router = Router();
  const { access, grants } = services;

  router.get('/media/:id/acl', async (req, res) => {
    const asset = await access.requireOwner(principalOf(req), parseAssetId(req.params.id));
    res.json(await grants.grants(asset));
  });

  router.put('/media/:id/acl', async (req, res) => {
    const asset = await access.requireOwner(principalOf(req), parseAssetId(req.params.id));
    const body = parseOr400(aclBody, req.body);
    res.json(await grants.replace(asset, body.grants as Grant[]));
  });

  return router;
}
