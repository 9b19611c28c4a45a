#!/usr/bin/env bash
# ensure-engine.sh — make a real Docker engine answer on this machine, idempotently.
#
# Meant for CI on Debian 12 (runs as root on a fresh machine that has only the docker client):
#   1. if `docker info` already answers, say which engine/compose answer and exit 0;
#   2. if dockerd, docker-compose or /bin/busybox is missing, install
#      docker.io docker-compose busybox-static with apt-get (only then);
#   3. start dockerd in the background, detached so it outlives this script (systemd's
#      docker.service instead when systemd runs the machine), and wait for `docker info`;
#      on failure print the tail of the daemon log and exit 1 — CI must fail, not skip.
# Always prints one final line naming the engine version and the compose flavour.
#
# Environment (all optional):
#   BERTH_ENGINE_TIMEOUT   seconds to wait for the engine after starting it (default 60)
#   BERTH_DOCKERD_LOG      daemon log file (default /tmp/berth-dockerd.log)
#   BERTH_DOCKERD_ARGS     extra dockerd arguments, split on whitespace (e.g. a second engine:
#                          "--host unix:///tmp/e2/docker.sock --data-root /tmp/e2/data
#                           --exec-root /tmp/e2/exec --pidfile /tmp/e2/docker.pid --bridge none")
#   DOCKER_HOST            honoured by every docker call, as usual
set -euo pipefail

TIMEOUT=${BERTH_ENGINE_TIMEOUT:-60}
LOG=${BERTH_DOCKERD_LOG:-/tmp/berth-dockerd.log}
read -r -a DOCKERD_ARGS <<<"${BERTH_DOCKERD_ARGS:-}"
APT_LOG=/tmp/berth-ensure-engine-apt.log

say() { echo "ensure-engine: $*"; }
die() { echo "ensure-engine: error: $*" >&2; exit 1; }

# One guarded probe: true when the engine answers within 10 s.
engine_answers() {
  command -v docker >/dev/null 2>&1 && timeout 10 docker info >/dev/null 2>&1
}

# The final one-liner: engine version/API and which compose flavour(s) answer.
report() {
  local engine compose=() v
  engine=$(timeout 10 docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})' 2>/dev/null || echo unknown)
  if v=$(timeout 10 docker compose version --short 2>/dev/null) && [ -n "$v" ]; then
    compose+=("docker compose v${v#v} (plugin)")
  fi
  if command -v docker-compose >/dev/null 2>&1 && v=$(timeout 10 docker-compose version --short 2>/dev/null) && [ -n "$v" ]; then
    case "${v#v}" in
      1.*) compose+=("docker-compose v1 ${v#v}") ;;
      *) compose+=("docker-compose v2 ${v#v} (standalone)") ;;
    esac
  fi
  local flavour="none found"
  if [ "${#compose[@]}" -gt 0 ]; then
    flavour=$(printf '%s; ' "${compose[@]}")
    flavour=${flavour%; }
  fi
  say "Docker engine $engine answers; compose: $flavour"
  if [ ! -x /bin/busybox ]; then
    say "note: /bin/busybox is missing (the demo base image needs it: apt-get install busybox-static)"
  fi
}

# Runs a command as root (directly, or through passwordless sudo).
as_root() {
  if [ "$(id -u)" = 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo -n "$@"
  else
    die "need root to run: $* (run as root or allow passwordless sudo)"
  fi
}

# 1. Already answering: nothing to do.
if engine_answers; then
  report
  exit 0
fi

# The engine may be up but closed to us; starting a second daemon would not help.
if command -v docker >/dev/null 2>&1; then
  probe=$(timeout 10 docker info 2>&1 >/dev/null || true)
  if grep -qi 'permission denied' <<<"$probe"; then
    die "the engine runs but this user may not use its socket: $(grep -i 'permission denied' <<<"$probe" | head -1)"
  fi
fi
case "${DOCKER_HOST:-unix://}" in
  unix://*) ;;
  *) die "DOCKER_HOST=$DOCKER_HOST does not answer, and it is not a local socket this script could start" ;;
esac

# Serialise concurrent runs (two CI steps calling this at once must not start two daemons).
LOCK=/tmp/berth-ensure-engine.lock
if { exec 9>>"$LOCK"; } 2>/dev/null && command -v flock >/dev/null 2>&1; then
  flock -w $((TIMEOUT + 30)) 9 || die "another ensure-engine run holds $LOCK"
fi
if engine_answers; then # started by the run we waited for
  report
  exit 0
fi

# 2. Install what is missing (and nothing when all is there).
missing=()
command -v docker >/dev/null 2>&1 || missing+=(docker)
command -v dockerd >/dev/null 2>&1 || [ -x /usr/sbin/dockerd ] || [ -x /usr/bin/dockerd ] || missing+=(dockerd)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
[ -x /bin/busybox ] || missing+=(/bin/busybox)
if [ "${#missing[@]}" -gt 0 ]; then
  command -v apt-get >/dev/null 2>&1 || die "missing ${missing[*]} and no apt-get to install them"
  say "missing ${missing[*]}: installing docker.io docker-compose busybox-static (log: $APT_LOG)"
  if ! as_root apt-get update >"$APT_LOG" 2>&1 ||
    ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y \
      docker.io docker-compose busybox-static >>"$APT_LOG" 2>&1; then
    tail -n 30 "$APT_LOG" >&2
    die "apt-get failed"
  fi
  hash -r
fi
DOCKERD=$(command -v dockerd || echo /usr/sbin/dockerd)
[ -x "$DOCKERD" ] || die "dockerd still missing after installation"

wait_for_engine() { # seconds -> true when the engine answers in time
  local deadline=$((SECONDS + $1))
  while [ "$SECONDS" -lt "$deadline" ]; do
    engine_answers && return 0
    # A daemon we started that died already will not answer: stop waiting.
    if [ -n "${started_pid:-}" ] && ! kill -0 "$started_pid" 2>/dev/null; then
      return 1
    fi
    sleep 0.5
  done
  engine_answers
}

# The daemon's pid file (dockerd's default unless --pidfile/-p is among the extra arguments).
pidfile=/var/run/docker.pid
for ((i = 0; i < ${#DOCKERD_ARGS[@]}; i++)); do
  case "${DOCKERD_ARGS[i]}" in
    --pidfile=* | -p=*) pidfile=${DOCKERD_ARGS[i]#*=} ;;
    --pidfile | -p) pidfile=${DOCKERD_ARGS[i + 1]:-$pidfile} ;;
  esac
done

# 3. Start the engine.
started_pid=
if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile" 2>/dev/null || echo 0)" 2>/dev/null &&
  grep -q dockerd "/proc/$(cat "$pidfile")/cmdline" 2>/dev/null; then
  # A daemon is running but not answering yet (still starting): wait for it, do not start another.
  say "dockerd (pid $(cat "$pidfile")) is already running; waiting for it to answer"
elif [ -d /run/systemd/system ] && [ "${#DOCKERD_ARGS[@]}" -eq 0 ] &&
  command -v systemctl >/dev/null 2>&1 && systemctl cat docker.service >/dev/null 2>&1; then
  say "starting docker.service with systemd"
  as_root systemctl start docker.service || true
else
  say "starting dockerd in the background (log: $LOG)"
  # setsid + nohup: its own session, immune to the hangup when the CI step's shell exits.
  # Without job control the background child is no process-group leader, so setsid does not
  # fork and $! is dockerd's own pid.
  if [ "$(id -u)" = 0 ]; then
    # 9>&-: the daemon must not inherit (and so hold) the lock.
    setsid nohup "$DOCKERD" "${DOCKERD_ARGS[@]}" >>"$LOG" 2>&1 </dev/null 9>&- &
    started_pid=$!
  else
    as_root true # fail early with a clear message if we cannot become root
    sudo -n setsid nohup "$DOCKERD" "${DOCKERD_ARGS[@]}" >>"$LOG" 2>&1 </dev/null 9>&- &
  fi
fi

if ! wait_for_engine "$TIMEOUT"; then
  if [ -n "$started_pid" ] && ! kill -0 "$started_pid" 2>/dev/null; then
    echo "ensure-engine: error: dockerd (pid $started_pid) exited before the engine answered" >&2
  else
    echo "ensure-engine: error: the Docker engine did not answer within ${TIMEOUT}s" >&2
  fi
  if [ -s "$LOG" ]; then
    echo "---- last lines of $LOG ----" >&2
    tail -n 40 "$LOG" >&2
  elif command -v journalctl >/dev/null 2>&1; then
    journalctl -u docker.service -n 40 --no-pager >&2 || true
  fi
  exit 1
fi
report
