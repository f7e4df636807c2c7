# syntax=docker/dockerfile:1
# Build stage: compile TypeScript with the dev dependencies.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npm run build

# Runtime stage: production dependencies and the compiled output only, as a non-root user.
FROM node:20-bookworm-slim
ENV NODE_ENV=production PORTICO_CONFIG=/app/routes.yaml
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY routes.yaml ./routes.yaml
COPY schema ./schema
RUN mkdir -p /app/certs && chown -R node:node /app/certs
USER node
# Certificates, keys and the ACME account live here: keep them across container restarts.
VOLUME ["/app/certs"]
# Unprivileged ports; map 80/443 on the host (docker run -p 80:8080 -p 443:8443).
EXPOSE 8080 8443
# The admin API listens on loopback inside the container (routes.yaml: admin 127.0.0.1:9901).
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9901/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "dist/cli.js"]
CMD ["start"]
