# jitgate: one image for the bot, the worker and the authorizer (the command picks which).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY shared ./shared
COPY bot ./bot
COPY authorizer ./authorizer
COPY system ./system
COPY scripts ./scripts
# The demo (scripts/demo.ts) runs against the local Slack stand-in, so it is built too.
COPY dev ./dev
RUN npm run build

FROM node:20-bookworm-slim AS production-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=production-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json policy.example.yml manifest.yml ./
# npm start's pre-script: with no sources here it builds nothing, and node runs dist/ as it is.
COPY scripts/ensure-build.mjs ./scripts/
USER node
EXPOSE 3000 8080
# Override with dist/bot/worker-main.js or dist/authorizer/main.js (see docker-compose.yml).
CMD ["node", "dist/scripts/start.js"]
