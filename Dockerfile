# syntax=docker/dockerfile:1
# Multi-stage build: dependencies are installed once, the runtime image holds production deps only.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
ENV PUPPETEER_SKIP_DOWNLOAD=1
COPY package.json package-lock.json .npmrc .puppeteerrc.cjs ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim AS runtime
# Debian's Chromium for WHATSAPP_TRANSPORT=webjs (whatsapp-web.js drives it through Puppeteer);
# curl for the health check. Set INSTALL_CHROMIUM=false to build a slimmer image for cloud/simulator.
ARG INSTALL_CHROMIUM=true
RUN apt-get update \
  && apt-get install -y --no-install-recommends curl ca-certificates \
  && if [ "$INSTALL_CHROMIUM" = "true" ]; then apt-get install -y --no-install-recommends chromium fonts-liberation; fi \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production PORT=3000 PGLITE_DIR=/app/data/pglite WEBJS_AUTH_DIR=/app/data/wwebjs-auth \
  PUPPETEER_EXECUTABLE_PATH=/usr/bin/chromium PUPPETEER_SKIP_DOWNLOAD=1
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY src ./src
COPY migrations ./migrations
RUN mkdir -p /app/data && chown -R node:node /app/data
USER node
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD curl -fsS "http://127.0.0.1:${PORT}/health/ready" >/dev/null || exit 1
CMD ["node", "--import", "tsx", "src/main.ts"]
