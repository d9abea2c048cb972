# syntax=docker/dockerfile:1
# Assetline API and worker image. TypeScript runs through tsx (a runtime dependency), so there is no build step:
# the image holds the sources and production node_modules. The default command starts the API; the worker
# service overrides it with worker/main.ts.
ARG NODE_IMAGE=node:20-bookworm-slim

# Production dependencies only. Native modules (sharp, the Temporal core bridge) ship prebuilt binaries for
# linux glibc, so no compiler toolchain is needed.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
# ffmpeg/ffprobe and poppler-utils (pdftoppm, pdfinfo) are used by the media pipeline's later stages.
RUN apt-get update \
  && apt-get install -y --no-install-recommends ca-certificates ffmpeg poppler-utils \
  && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
WORKDIR /app
# Owned by root and only readable by the `node` user that runs the processes.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.json ./
COPY shared ./shared
COPY activities ./activities
COPY workflows ./workflows
COPY api ./api
COPY worker ./worker
USER node
EXPOSE 3000
# One Node process (no npx wrapper), so SIGTERM reaches the app's own shutdown handlers.
CMD ["node", "--import", "tsx", "api/main.ts"]
