# The demo's queue: Redis 7. The base is a build argument: berth-real-redis:local (built with no
# registry by images/real/build.sh) or redis:7 on a machine with a registry
# (BERTH_DEMO_REDIS_BASE=redis:7). compose.yaml gives it its password on stdin.
ARG BASE_IMAGE=berth-real-redis:local
FROM ${BASE_IMAGE}
LABEL org.opencontainers.image.title="berth demo queue (Redis 7)"
