# One Dockerfile for every Node service of the demo: compose passes SERVICE (the source folder)
# and BASE_IMAGE. The default base is built from the host by images/build.sh; any Node 20 image
# works too (set BERTH_DEMO_BASE_IMAGE=node:20-slim). The npm clients the services use (pg,
# ioredis) are installed by images/build.sh into images/deps/node_modules and land in
# /node_modules, where Node's resolution finds them from the bind-mounted /app. Few steps on
# purpose: each metadata step costs the legacy builder an intermediate container.
ARG BASE_IMAGE=berth-demo-base:local
FROM ${BASE_IMAGE}
COPY images/deps/node_modules/ /node_modules/
COPY images/bin/ /usr/local/bin/
ARG SERVICE=backend
COPY ${SERVICE}/ /app/
CMD ["node", "/app/server.mjs"]
