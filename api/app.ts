import express from 'express';
import { pinoHttp } from 'pino-http';
import type { ApiDeps } from './deps';
import { requireAuth } from './auth';
import { notFoundRoute, problemHandler } from './problem';
import { healthRoutes } from './routes/health';
import { openapiRoutes } from './routes/openapi';
import { mediaRoutes } from './routes/media';
import { uploadRoutes } from './routes/uploads';
import { companionRoutes } from './routes/companion';
import { aclRoutes } from './routes/acl';
import { visibilityRoutes } from './routes/visibility';
import { regionRoutes } from './routes/regions';
import type { RouteContext } from './route-context';
import { adminRoutes } from './routes/admin';
import { storageEventRoutes } from './routes/storage-events';
import { originRoutes } from './routes/origin';
import { contentRoutes } from './routes/content';
import { thumbnailRoutes } from './routes/thumbnail';
import { webhookRoutes } from './routes/webhooks';
import { searchRoutes } from './routes/search';
import { catalogRoutes } from './routes/catalog';
import { metadataRoutes } from './routes/metadata';
import { createServices } from './services';
import { createMetrics } from './metrics';
import { concurrencyLimit } from './concurrency-limit';
import { allowedMethods } from './allowed-methods';
import { cors } from './cors';
import { consoleStatic } from './console-static';
import { openapiDocument } from './openapi/document';
import { UNKNOWN_VIEWERS } from './viewer-country';

export function createApp(deps: ApiDeps): express.Express {
  const app = express();
  const services = createServices(deps);
  app.disable('x-powered-by');
  // api/viewer-country.ts reads it from the request's app, so every route resolves the viewer the same way.
  app.locals.viewerCountry = deps.viewerCountry ?? UNKNOWN_VIEWERS;
  app.set('query parser', 'simple');
  const metrics = createMetrics(deps.workflowStarts);
  app.use(metrics.measure);
  app.use(
    pinoHttp({
      logger: deps.logger,
      autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/metrics' },
      // Delivery tokens in origin URLs are credentials until they expire: keep them out of the logs.
      serializers: {
        req: (req: { method: string; url: string; id: unknown }) => ({
          id: req.id,
          method: req.method,
          url: req.url.replace(/([?&]md5=)[^&]*/, '$1[redacted]'),
        }),
      },
    }),
  );
  // Before the method check and authentication: a browser's preflight is OPTIONS and carries no token.
  app.use(cors(deps.settings.corsAllowedOrigins ?? []));
  // Before the body parser and authentication: a method no route has is refused whoever asks.
  app.use(allowedMethods(openapiDocument(deps.settings).paths as Record<string, Record<string, unknown>>));
  app.use(
    express.json({
      limit: deps.settings.jsonBodyLimitBytes,
      type: ['application/json', 'application/*+json'],
    }),
  );

  // The web console: static files, public; the page authenticates its own API calls with a bearer token.
  app.use('/console', consoleStatic(deps.settings.console ?? {}));
  app.use(healthRoutes(deps));
  app.get('/metrics', metrics.expose);
  app.use(openapiRoutes(deps));
  app.use(storageEventRoutes(deps, services.uploads));
  // Delivery tokens authorise the origin, not JWTs.
  app.use(originRoutes(deps));
  // The public catalogue needs no token either: it lists only what anyone may watch.
  app.use(catalogRoutes(services.catalog));
  app.use(requireAuth(deps.settings.jwtSecret));
  const { maxConcurrentRequests, maxQueuedRequests } = deps.settings;
  if (maxConcurrentRequests) app.use(concurrencyLimit(maxConcurrentRequests, maxQueuedRequests ?? Infinity));
  const context: RouteContext = { deps, services };
  app.use(uploadRoutes(context));
  app.use(companionRoutes(context));
  app.use(mediaRoutes(context));
  app.use(searchRoutes(context));
  app.use(metadataRoutes(context));
  app.use(contentRoutes(context));
  app.use(thumbnailRoutes(context));
  app.use(aclRoutes(context));
  app.use(visibilityRoutes(context));
  app.use(regionRoutes(context));
  app.use(adminRoutes(services.listings));
  app.use(webhookRoutes(services.webhooks));

  app.use(notFoundRoute);
  app.use(problemHandler(deps.logger));
  return app;
}
