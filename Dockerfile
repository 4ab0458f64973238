# The service image: Node 20, production dependencies from the lockfile, TypeScript run through tsx.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY bin ./bin
COPY src ./src
COPY configs ./configs
COPY examples ./examples
# The shipped teacher and student: pinned in configs/model_pins.json, stored into the hub on start.
COPY models ./models
ENV HOST=0.0.0.0 PORT=8000 HUB_DIR=/data/hub
EXPOSE 8000
CMD ["node", "--import", "tsx", "src/cli/main.ts", "serve"]
