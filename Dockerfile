# syntax=docker/dockerfile:1
# Assetline API and worker image. TypeScript runs through tsx (a runtime dependency), so there is no build step:
# the image holds the runtime sources (api, worker, activities, workflows, domain, infra; devstack, scripts and test are
# development only) and production node_modules. The default command starts the API; the worker services
# override it with worker/main.ts. clamd, Redis and nginx run in containers of their own.
ARG NODE_IMAGE=node:24-bookworm-slim

# Production dependencies only. Native modules (sharp, the Temporal core bridge) ship prebuilt binaries for
# linux glibc, so no compiler toolchain is needed.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# The web console's static files (esbuild, Preact, hls.js, Uppy: dev dependencies, so a stage of their own).
FROM ${NODE_IMAGE} AS console
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
RUN npm ci --no-audit --no-fund
COPY client/generated ./client/generated
COPY console ./console
COPY scripts/build-console.ts ./scripts/
RUN node --import tsx scripts/build-console.ts

# The delivery edge (docker-compose's edge service): Debian 12's nginx and its geoip2 module, as `npm start` and the
# tests run them. Its config comes from compose; the entry point adds the GeoIP lookup (scripts/edge-geoip.sh).
# Before `runtime`, which stays the default target.
FROM debian:bookworm-slim AS edge
RUN apt-get update \
  && apt-get install -y --no-install-recommends nginx-light libnginx-mod-http-geoip2 \
  && rm -rf /var/lib/apt/lists/* /etc/nginx/sites-enabled/default \
  && ln -sf /dev/stdout /var/log/nginx/access.log \
  && ln -sf /dev/stderr /var/log/nginx/error.log \
  && install -d /etc/assetline/geoip
COPY scripts/edge-geoip.sh /usr/local/bin/edge-geoip.sh
EXPOSE 8080
STOPSIGNAL SIGQUIT
ENTRYPOINT ["sh", "/usr/local/bin/edge-geoip.sh"]
CMD ["nginx", "-g", "daemon off;"]

FROM ${NODE_IMAGE} AS runtime
# ffmpeg/ffprobe, poppler-utils (pdftoppm, pdfinfo) and libheif-examples (heif-convert, for HEVC HEIC) are what the
# media worker runs; Debian 12's, as on the machines the tests run on. WORK_DIR for a volume: a new volume takes this
# directory's owner.
RUN apt-get update \
  && apt-get install -y --no-install-recommends ca-certificates ffmpeg poppler-utils libheif-examples \
  && rm -rf /var/lib/apt/lists/* \
  && install -d -o node -g node /var/lib/assetline/work
ENV NODE_ENV=production
WORKDIR /app
# Owned by root and only readable by the `node` user that runs the processes.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.json ./
COPY domain ./domain
COPY infra ./infra
COPY activities ./activities
COPY workflows ./workflows
COPY api ./api
COPY worker ./worker
COPY --from=console /app/console/dist ./console/dist
COPY scripts/bundle-workflows.ts ./scripts/
# Workflow code bundled at build time: workers load it instead of running webpack at start (seconds, ~200 MB RSS).
RUN node --import tsx scripts/bundle-workflows.ts /app/dist/workflow-bundle.js
ENV WORKFLOW_BUNDLE_PATH=/app/dist/workflow-bundle.js
USER node
EXPOSE 3000
# One Node process (no npx wrapper), so SIGTERM reaches the app's own shutdown handlers.
CMD ["node", "--import", "tsx", "api/main.ts"]
