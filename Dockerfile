# The service image: Node 20, the TypeScript compiled ahead of time (make build) and run as JavaScript.
FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends make >/dev/null && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY Makefile tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN make build

FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY bin ./bin
COPY --from=build /app/dist ./dist
COPY configs ./configs
COPY examples ./examples
# The shipped teacher and student: pinned in configs/model_pins.json, stored into the hub on start.
COPY models ./models
ENV HOST=0.0.0.0 PORT=8000 HUB_DIR=/data/hub
EXPOSE 8000
CMD ["node", "bin/fai.js", "serve"]
