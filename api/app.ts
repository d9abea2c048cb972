import express from 'express';
import { pinoHttp } from 'pino-http';
import type { ApiDeps } from './deps';
import { requireAuth } from './auth';
import { notFoundRoute, problemHandler } from './problem';
import { healthRoutes } from './routes/health';
import { mediaRoutes } from './routes/media';
import { uploadRoutes } from './routes/uploads';
import { aclRoutes } from './routes/acl';
import { AccessControl } from './access';
import type { RouteContext } from './route-context';
import { adminRoutes } from './routes/admin';
import { storageEventRoutes } from './routes/storage-events';
import { WorkflowGateway } from './workflow-gateway';

export function createApp(deps: ApiDeps): express.Express {
  const app = express();
  const workflows = new WorkflowGateway(deps.temporal, deps.settings.taskQueue);
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(pinoHttp({ logger: deps.logger, autoLogging: { ignore: (req) => req.url === '/healthz' } }));
  app.use(
    express.json({
      limit: deps.settings.jsonBodyLimitBytes,
      type: ['application/json', 'application/*+json'],
    }),
  );

  app.use(healthRoutes(deps, workflows));
  app.use(storageEventRoutes(deps, workflows));
  app.use(requireAuth(deps.settings.jwtSecret));
  const context: RouteContext = { deps, workflows, access: new AccessControl(deps.assets, deps.acl) };
  app.use(uploadRoutes(context));
  app.use(mediaRoutes(context));
  app.use(aclRoutes(context, async () => undefined));
  app.use(adminRoutes(deps));

  app.use(notFoundRoute);
  app.use(problemHandler(deps.logger));
  return app;
}
