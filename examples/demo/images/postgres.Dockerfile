# The demo's database: PostgreSQL 15 with the official image's interface. The base is a build
# argument: berth-real-postgres:local (built with no registry by images/real/build.sh) or, on a
# machine with a registry, postgres:15 (BERTH_DEMO_POSTGRES_BASE=postgres:15). Nothing else is
# added: the demo configures it through the environment (POSTGRES_*) in compose.yaml.
ARG BASE_IMAGE=berth-real-postgres:local
FROM ${BASE_IMAGE}
LABEL org.opencontainers.image.title="berth demo db (PostgreSQL 15)"
