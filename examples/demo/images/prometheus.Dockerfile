# The demo's metrics: Prometheus scraping the backend and the workers. The base is a build
# argument: berth-real-prometheus:local (built with no registry by images/real/build.sh) or
# prom/prometheus on a machine with a registry (BERTH_DEMO_PROMETHEUS_BASE=prom/prometheus). The
# scrape config is baked in (and bind-mounted from the checkout by compose.yaml, so an edit in one
# worktree applies to that instance after a restart).
ARG BASE_IMAGE=berth-real-prometheus:local
FROM ${BASE_IMAGE}
COPY prometheus/prometheus.yml /etc/prometheus/prometheus.yml
LABEL org.opencontainers.image.title="berth demo metrics (Prometheus)"
