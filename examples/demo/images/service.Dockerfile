# One Dockerfile for every demo service: compose passes SERVICE (the source folder) and
# BASE_IMAGE. The default base is built from the host by images/build.sh; any Node 18+ image
# works too (set BERTH_DEMO_BASE_IMAGE=node:20-slim). Few steps on purpose: each metadata step
# costs the legacy builder an intermediate container.
ARG BASE_IMAGE=berth-demo-base:local
FROM ${BASE_IMAGE}
COPY images/bin/ /usr/local/bin/
ARG SERVICE=backend
COPY ${SERVICE}/ /app/
CMD ["node", "/app/server.mjs"]
