#!/usr/bin/env bash
# Real Gnocchi 4.4 (Debian's python3-gnocchi) as a benchmark peer: gnocchi-api under uWSGI
# and gnocchi-metricd, in a throwaway setup under .cache/gnocchi/. Every start begins clean.
#
#   bash scripts/gnocchi.sh install   # Debian packages if missing (idempotent; needs root for apt)
#   bash scripts/gnocchi.sh start     # stop ours if running, wipe, new database, gnocchi-upgrade, api + metricd, wait for /v1/status
#   bash scripts/gnocchi.sh stop      # SIGTERM what start started (its two process groups), SIGKILL after 20 s
#   bash scripts/gnocchi.sh status    # "running ..." exit 0 / "stopped" exit 1
#   bash scripts/gnocchi.sh restart   # stop + start (a clean start, like start)
#   bash scripts/gnocchi.sh clean     # stop, delete storage/ and incoming/, drop the database (logs and config stay)
#
# The setup:
#   - API: http://127.0.0.1:$GNOCCHI_PORT, auth_mode = basic. Gnocchi's "basic" mode checks no
#     password: the user name of an HTTP Basic header is the user, and "admin" gets the admin role.
#     Plain HTTP sends `Authorization: Basic YWRtaW46` (base64 of "admin:"); gnocchiclient:
#       gnocchi --os-auth-type gnocchi-basic --user admin --endpoint http://127.0.0.1:8041 status
#     (4.4 has no "noauth" mode: basic, keystone and remoteuser are its choices.)
#   - Storage: the file driver in $GNOCCHI_HOME/storage; incoming measures: the file driver in
#     $GNOCCHI_HOME/incoming (128 sacks, gnocchi-upgrade's default).
#   - Index: PostgreSQL, database $GNOCCHI_PG_DB owned by role $GNOCCHI_PG_USER (password auth
#     over TCP), dropped and created on every start. The role and database are made by a
#     PostgreSQL superuser: $GNOCCHI_PG_ADMIN_URL when set, else the postgres OS user
#     (su as root, or sudo -n). Coordination (tooz) uses the same database, Gnocchi's default.
#   - metricd: $GNOCCHI_METRICD_WORKERS processing workers (default: the number of cores). The
#     file incoming driver cannot notify metricd of new measures, so metricd rescans its sacks
#     every metric_processing_delay seconds: 60 by default in Gnocchi, $GNOCCHI_PROCESSING_DELAY
#     (default 1) here, so that a benchmark times the processing rather than the wait.
#   - The API runs under uWSGI as Debian's gnocchi-api package runs it (uwsgi --http-socket,
#     the workers answering HTTP themselves, "Connection: close"; master, lazy apps) with the
#     process and thread counts of gnocchi-api's own launcher (floor(1.5 x cores) processes x
#     cores threads), from a config file of ours: 127.0.0.1 only, logs where we say, request
#     lines not logged (disable-logging; errors are). The launcher's other mode, an --http
#     router with keep-alive, drops reused connections when clients send requests in parallel.
#
# Packages: python3-gnocchi (the API, metricd, gnocchi-upgrade), uwsgi-core and
# uwsgi-plugin-python3 (Debian's gnocchi-api package runs the API with them), postgresql-client
# (psql, to make the database). Debian's gnocchi-api / gnocchi-metricd / gnocchi-common packages
# are not used: they only add system services (which their postinst starts, on 8041 with
# /etc/gnocchi/gnocchi.conf, wherever policy-rc.d allows it), dbconfig-common questions and
# Keystone/openstackclient dependencies, nothing this setup needs.
#
# Environment:
#   GNOCCHI_HOME              default <repo>/.cache/gnocchi (relative paths are taken from the repo root)
#   GNOCCHI_PORT              default 8041
#   GNOCCHI_PG_HOST / _PORT   default 127.0.0.1 / 5432
#   GNOCCHI_PG_DB             default cumulus_gnocchi_bench
#   GNOCCHI_PG_USER           default cumulus_gnocchi
#   GNOCCHI_PG_PASSWORD       default cumulus_gnocchi
#   GNOCCHI_PG_ADMIN_URL      a superuser libpq URL (e.g. postgresql://postgres:pw@127.0.0.1:5432/postgres); default: the postgres OS user
#   GNOCCHI_METRICD_WORKERS   default nproc
#   GNOCCHI_API_PROCESSES     default floor(1.5 x nproc), at least 2
#   GNOCCHI_API_THREADS       default nproc
#   GNOCCHI_PROCESSING_DELAY  seconds between metricd's sack scans, default 1
#   GNOCCHI_START_TIMEOUT     seconds to wait for /v1/status, default 90
#
# Files under $GNOCCHI_HOME: gnocchi.conf, uwsgi.ini, settings.json (what this start used),
# conf.d/ (empty: keeps /etc/gnocchi out), storage/, incoming/, api.pid, metricd.pid,
# api.log, metricd.log, upgrade.log, database.log, install.log.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT_DIR="$(cd "$SCRIPT_DIR/.." && pwd)"

GNOCCHI_HOME="${GNOCCHI_HOME:-.cache/gnocchi}"
case "$GNOCCHI_HOME" in
  /*) ;;
  *) GNOCCHI_HOME="$ROOT_DIR/$GNOCCHI_HOME" ;;
esac
GNOCCHI_PORT="${GNOCCHI_PORT:-8041}"
GNOCCHI_PG_HOST="${GNOCCHI_PG_HOST:-127.0.0.1}"
GNOCCHI_PG_PORT="${GNOCCHI_PG_PORT:-5432}"
GNOCCHI_PG_DB="${GNOCCHI_PG_DB:-cumulus_gnocchi_bench}"
GNOCCHI_PG_USER="${GNOCCHI_PG_USER:-cumulus_gnocchi}"
GNOCCHI_PG_PASSWORD="${GNOCCHI_PG_PASSWORD:-cumulus_gnocchi}"
GNOCCHI_PG_ADMIN_URL="${GNOCCHI_PG_ADMIN_URL:-}"
CORES="$(nproc 2>/dev/null || echo 2)"
GNOCCHI_METRICD_WORKERS="${GNOCCHI_METRICD_WORKERS:-$CORES}"
GNOCCHI_API_PROCESSES="${GNOCCHI_API_PROCESSES:-$(((CORES * 3 / 2) > 2 ? (CORES * 3 / 2) : 2))}"
GNOCCHI_API_THREADS="${GNOCCHI_API_THREADS:-$CORES}"
GNOCCHI_PROCESSING_DELAY="${GNOCCHI_PROCESSING_DELAY:-1}"
GNOCCHI_START_TIMEOUT="${GNOCCHI_START_TIMEOUT:-90}"
STOP_TIMEOUT=20

# Debian's interpreter: the python3 first on PATH may be another build that cannot see Debian's modules.
PYTHON=/usr/bin/python3
UWSGI=/usr/bin/uwsgi-core
UWSGI_PYTHON_PLUGIN=/usr/lib/uwsgi/plugins/python3_plugin.so
PACKAGES=(python3-gnocchi uwsgi-core uwsgi-plugin-python3 postgresql-client)

CONF="$GNOCCHI_HOME/gnocchi.conf"
CONF_DIR="$GNOCCHI_HOME/conf.d"
UWSGI_INI="$GNOCCHI_HOME/uwsgi.ini"
SETTINGS="$GNOCCHI_HOME/settings.json"
STORAGE_DIR="$GNOCCHI_HOME/storage"
INCOMING_DIR="$GNOCCHI_HOME/incoming"
API_PID="$GNOCCHI_HOME/api.pid"
METRICD_PID="$GNOCCHI_HOME/metricd.pid"
API_LOG="$GNOCCHI_HOME/api.log"
METRICD_LOG="$GNOCCHI_HOME/metricd.log"
UPGRADE_LOG="$GNOCCHI_HOME/upgrade.log"
DATABASE_LOG="$GNOCCHI_HOME/database.log"
INSTALL_LOG="$GNOCCHI_HOME/install.log"

log() { echo "gnocchi.sh: $*"; }
err() { echo "gnocchi.sh: $*" >&2; }
die() { err "$*"; exit 1; }

usage() {
  cat <<EOF
usage: $(basename "$0") install|start|stop|restart|status|clean
  GNOCCHI_HOME=$GNOCCHI_HOME  GNOCCHI_PORT=$GNOCCHI_PORT
  PostgreSQL $GNOCCHI_PG_HOST:$GNOCCHI_PG_PORT database $GNOCCHI_PG_DB (role $GNOCCHI_PG_USER)
EOF
}

# Serialise the commands that change state; fd 9 is closed for the daemons (see launch).
take_lock() {
  mkdir -p "$GNOCCHI_HOME"
  exec 9>"$GNOCCHI_HOME/.lock"
  flock -w 120 9 || die "could not get $GNOCCHI_HOME/.lock within 120 s"
}

# Names go into SQL and URLs unquoted: keep them to plain identifiers.
check_names() {
  [[ "$GNOCCHI_PG_DB" =~ ^[a-z_][a-z0-9_]*$ ]] || die "GNOCCHI_PG_DB must be a lower-case identifier, not '$GNOCCHI_PG_DB'"
  [[ "$GNOCCHI_PG_USER" =~ ^[a-z_][a-z0-9_]*$ ]] || die "GNOCCHI_PG_USER must be a lower-case identifier, not '$GNOCCHI_PG_USER'"
  [[ "$GNOCCHI_PG_PASSWORD" =~ ^[A-Za-z0-9_.-]+$ ]] || die "GNOCCHI_PG_PASSWORD may hold letters, digits, '_', '.' and '-' only"
  [[ "$GNOCCHI_PORT" =~ ^[0-9]+$ ]] || die "GNOCCHI_PORT must be a number"
  local n
  for n in GNOCCHI_METRICD_WORKERS GNOCCHI_API_PROCESSES GNOCCHI_API_THREADS GNOCCHI_PROCESSING_DELAY GNOCCHI_START_TIMEOUT; do
    [[ "${!n}" =~ ^[1-9][0-9]*$ ]] || die "$n must be a positive whole number, not '${!n}'"
  done
}

# ---------------------------------------------------------------- install

package_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

missing_packages() {
  local p
  for p in "${PACKAGES[@]}"; do
    # Any psql will do (postgresql-client-15 without the metapackage, say).
    [[ "$p" == postgresql-client ]] && command -v psql >/dev/null && continue
    package_installed "$p" || echo "$p"
  done
}

do_install() {
  command -v dpkg-query >/dev/null || die "dpkg-query not found: this script needs Debian (bookworm) packages"
  local missing
  mapfile -t missing < <(missing_packages)
  if ((${#missing[@]} > 0)); then
    if [[ "$(id -u)" != 0 ]]; then
      die "missing Debian packages: ${missing[*]} (run 'sudo bash scripts/gnocchi.sh install' or apt-get install them)"
    fi
    mkdir -p "$GNOCCHI_HOME"
    log "installing Debian packages: ${missing[*]} (log: $INSTALL_LOG)"
    # None of these packages asks debconf questions or starts a service.
    if ! { DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$INSTALL_LOG" 2>&1; then
      err "apt-get failed to install ${missing[*]}:"
      tail -n 30 "$INSTALL_LOG" >&2
      exit 1
    fi
  fi
  check_installed
}

# What start needs, whatever installed it.
check_installed() {
  [[ -x "$PYTHON" ]] || die "$PYTHON not found (Debian's python3; run: bash scripts/gnocchi.sh install)"
  local version
  version="$(env -u PYTHONHOME -u PYTHONPATH "$PYTHON" -c 'import gnocchi; print(gnocchi.__version__)' 2>/dev/null)" ||
    die "$PYTHON cannot import gnocchi (package python3-gnocchi; run: bash scripts/gnocchi.sh install)"
  [[ "$version" == 4.* ]] || die "Gnocchi $version found; this peer is Gnocchi 4.x (python3-gnocchi from bookworm)"
  [[ -x "$UWSGI" ]] || die "$UWSGI not found (package uwsgi-core; run: bash scripts/gnocchi.sh install)"
  [[ -f "$UWSGI_PYTHON_PLUGIN" ]] || die "$UWSGI_PYTHON_PLUGIN not found (package uwsgi-plugin-python3; run: bash scripts/gnocchi.sh install)"
  [[ -x /usr/bin/gnocchi-upgrade && -x /usr/bin/gnocchi-metricd ]] || die "/usr/bin/gnocchi-upgrade or gnocchi-metricd missing (package python3-gnocchi)"
  command -v psql >/dev/null || die "psql not found (package postgresql-client; run: bash scripts/gnocchi.sh install)"
  GNOCCHI_VERSION="$version"
}

# ---------------------------------------------------------------- processes

# Prints the pid recorded in $1 when that process is alive and its command line matches $2.
running_pid() {
  local file="$1" pattern="$2" pid
  [[ -f "$file" ]] || return 1
  pid="$(tr -dc '0-9' <"$file")"
  [[ -n "$pid" ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  if [[ -r "/proc/$pid/cmdline" ]] && ! tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$pattern"; then
    return 1
  fi
  echo "$pid"
}

api_pid() { running_pid "$API_PID" "$UWSGI_INI"; }
metricd_pid() { running_pid "$METRICD_PID" "gnocchi-metricd"; }

port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Starts "$@" in a new session (its own process group, so that stop can end its children
# too), detached from our stdin and lock, output to $1's log. Prints the pid.
launch() {
  local logfile="$1"
  shift
  # Not a job-control shell: the background job is no group leader, so setsid execs in place and $! is the daemon.
  nohup setsid env -u PYTHONHOME -u PYTHONPATH "$@" </dev/null >>"$logfile" 2>&1 9>&- &
  echo $!
}

# SIGTERM to the daemon (uwsgi's master and cotyledon's stop their workers themselves), then
# wait for its whole process group to go; SIGKILL to the group after STOP_TIMEOUT.
stop_group() {
  local name="$1" pid="$2" file="$3"
  log "stopping $name (pid $pid and its workers)"
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + STOP_TIMEOUT))
  while kill -0 -- "-$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      err "$name (process group $pid) still alive after ${STOP_TIMEOUT}s, sending SIGKILL"
      kill -KILL -- "-$pid" 2>/dev/null || true
      sleep 0.5
      break
    fi
    sleep 0.2
  done
  rm -f "$file"
}

show_log() {
  local file="$1"
  if [[ -s "$file" ]]; then
    err "---- last 30 lines of $file ----"
    tail -n 30 "$file" >&2
  fi
}

# GET $1 on the API with the admin Basic header; prints the body, fails on a non-2xx answer.
api_get() {
  env -u PYTHONHOME -u PYTHONPATH "$PYTHON" - "http://127.0.0.1:$GNOCCHI_PORT$1" <<'EOF'
import sys, urllib.request
request = urllib.request.Request(sys.argv[1], headers={"Authorization": "Basic YWRtaW46"})
with urllib.request.urlopen(request, timeout=5) as response:
    sys.stdout.write(response.read().decode())
EOF
}

# ---------------------------------------------------------------- PostgreSQL

# Runs psql as a PostgreSQL superuser, the SQL on stdin.
admin_psql() {
  if [[ -n "$GNOCCHI_PG_ADMIN_URL" ]]; then
    psql -X -q -v ON_ERROR_STOP=1 "$GNOCCHI_PG_ADMIN_URL"
  elif [[ "$(id -u)" == 0 ]] && id postgres >/dev/null 2>&1; then
    su postgres -s /bin/sh -c "cd / && psql -X -q -v ON_ERROR_STOP=1 -p $GNOCCHI_PG_PORT -d postgres"
  elif id postgres >/dev/null 2>&1 && sudo -n -u postgres true 2>/dev/null; then
    (cd / && sudo -n -u postgres psql -X -q -v ON_ERROR_STOP=1 -p "$GNOCCHI_PG_PORT" -d postgres)
  else
    err "cannot act as a PostgreSQL superuser to make the database: run as root (su postgres),"
    err "allow 'sudo -n -u postgres', or set GNOCCHI_PG_ADMIN_URL=postgresql://<superuser>:<password>@$GNOCCHI_PG_HOST:$GNOCCHI_PG_PORT/postgres"
    return 1
  fi
}

fresh_database() {
  port_open_at "$GNOCCHI_PG_HOST" "$GNOCCHI_PG_PORT" ||
    die "PostgreSQL is not reachable at $GNOCCHI_PG_HOST:$GNOCCHI_PG_PORT (GNOCCHI_PG_HOST / GNOCCHI_PG_PORT); Gnocchi's index needs it"
  log "database $GNOCCHI_PG_DB: drop and create (role $GNOCCHI_PG_USER)"
  if ! admin_psql >"$DATABASE_LOG" 2>&1 <<EOF; then
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$GNOCCHI_PG_USER') THEN
    CREATE ROLE $GNOCCHI_PG_USER LOGIN PASSWORD '$GNOCCHI_PG_PASSWORD';
  ELSE
    ALTER ROLE $GNOCCHI_PG_USER LOGIN PASSWORD '$GNOCCHI_PG_PASSWORD';
  END IF;
END
\$\$;
DROP DATABASE IF EXISTS $GNOCCHI_PG_DB WITH (FORCE);
CREATE DATABASE $GNOCCHI_PG_DB OWNER $GNOCCHI_PG_USER ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0;
EOF
    err "could not make the database $GNOCCHI_PG_DB as a PostgreSQL superuser:"
    cat "$DATABASE_LOG" >&2
    exit 1
  fi
  if ! PGPASSWORD="$GNOCCHI_PG_PASSWORD" psql -X -q -h "$GNOCCHI_PG_HOST" -p "$GNOCCHI_PG_PORT" -U "$GNOCCHI_PG_USER" \
    -d "$GNOCCHI_PG_DB" -c 'SELECT 1' >>"$DATABASE_LOG" 2>&1; then
    err "role $GNOCCHI_PG_USER cannot log in to $GNOCCHI_PG_DB over TCP with its password (pg_hba.conf?):"
    tail -n 5 "$DATABASE_LOG" >&2
    exit 1
  fi
}

port_open_at() {
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# ---------------------------------------------------------------- config

write_config() {
  local package_dir
  package_dir="$(env -u PYTHONHOME -u PYTHONPATH "$PYTHON" -c 'import gnocchi, os; print(os.path.dirname(gnocchi.__file__))')"
  # incoming/tmp too: Gnocchi 4.4's file incoming driver writes its sack count there before it
  # makes the directory (it works only when storage, upgraded first, shares the base path).
  mkdir -p "$CONF_DIR" "$STORAGE_DIR" "$INCOMING_DIR/tmp"
  cat >"$CONF" <<EOF
# Written by scripts/gnocchi.sh on every start; edit the script, not this file.
[DEFAULT]
debug = false
verbose = true
parallel_operations = $CORES

[api]
auth_mode = basic
host = 127.0.0.1
port = $GNOCCHI_PORT
paste_config = $package_dir/rest/api-paste.ini

[oslo_policy]
policy_file = $package_dir/rest/policy.yaml

[indexer]
url = postgresql+psycopg2://$GNOCCHI_PG_USER:$GNOCCHI_PG_PASSWORD@$GNOCCHI_PG_HOST:$GNOCCHI_PG_PORT/$GNOCCHI_PG_DB

[storage]
driver = file
file_basepath = $STORAGE_DIR

[incoming]
driver = file
file_basepath = $INCOMING_DIR

[metricd]
workers = $GNOCCHI_METRICD_WORKERS
metric_processing_delay = $GNOCCHI_PROCESSING_DELAY
metric_reporting_delay = 60
metric_cleanup_delay = 300
EOF

  # Debian's way (its init script and /etc/gnocchi/gnocchi-api-uwsgi.ini): the workers speak
  # HTTP themselves (http-socket) and close each connection. The upstream launcher's --http
  # router with keep-alive drops reused connections under concurrent clients ("other side
  # closed" in fetch), so it is not used. Process and thread counts are the upstream launcher's.
  cat >"$UWSGI_INI" <<EOF
# Written by scripts/gnocchi.sh on every start; edit the script, not this file.
[uwsgi]
plugins-dir = /usr/lib/uwsgi/plugins
plugins = python3
http-socket = 127.0.0.1:$GNOCCHI_PORT
add-header = Connection: close
http-timeout = 600
socket-timeout = 600
listen = 100
master = true
enable-threads = true
thunder-lock = true
hook-master-start = unix_signal:15 gracefully_kill_them_all
die-on-term = true
no-orphans = true
processes = $GNOCCHI_API_PROCESSES
threads = $GNOCCHI_API_THREADS
lazy-apps = true
buffer-size = 65535
chdir = /
wsgi = gnocchi.rest.wsgi
pyargv = --config-file $CONF --config-dir $CONF_DIR
disable-logging = true
# Python's teardown at exit segfaults in greenlet (pulled in by a dependency); nothing to clean up anyway.
skip-atexit-teardown = true
EOF

  cat >"$SETTINGS" <<EOF
{
  "gnocchi": "$GNOCCHI_VERSION",
  "url": "http://127.0.0.1:$GNOCCHI_PORT",
  "auth": "basic (user admin)",
  "storage": "file",
  "incoming": "file",
  "indexer": "postgresql $GNOCCHI_PG_HOST:$GNOCCHI_PG_PORT/$GNOCCHI_PG_DB",
  "sacks": 128,
  "metricd_workers": $GNOCCHI_METRICD_WORKERS,
  "metric_processing_delay_s": $GNOCCHI_PROCESSING_DELAY,
  "api_processes": $GNOCCHI_API_PROCESSES,
  "api_threads": $GNOCCHI_API_THREADS,
  "cores": $CORES
}
EOF
}

# ---------------------------------------------------------------- commands

# Workers left in the process group of a recorded daemon that died (killed from outside):
# only processes of that group whose command line is ours.
stop_leftovers() {
  local file="$1" pattern="$2" pid member
  [[ -f "$file" ]] || return 0
  pid="$(tr -dc '0-9' <"$file")"
  [[ -n "$pid" ]] || return 0
  for member in $(pgrep -g "$pid" 2>/dev/null); do
    if tr '\0' ' ' <"/proc/$member/cmdline" 2>/dev/null | grep -q -- "$pattern"; then
      err "killing pid $member, left over from process group $pid"
      kill -KILL "$member" 2>/dev/null || true
    fi
  done
}

do_stop() {
  local pid stopped=0
  if pid="$(api_pid)"; then
    stop_group gnocchi-api "$pid" "$API_PID"
    stopped=1
  fi
  if pid="$(metricd_pid)"; then
    stop_group gnocchi-metricd "$pid" "$METRICD_PID"
    stopped=1
  fi
  stop_leftovers "$API_PID" "$UWSGI_INI"
  stop_leftovers "$METRICD_PID" "gnocchi-metricd"
  rm -f "$API_PID" "$METRICD_PID"
  if ((stopped)); then log "stopped"; else log "not running"; fi
}

do_clean() {
  check_names
  do_stop
  rm -rf "$STORAGE_DIR" "$INCOMING_DIR"
  if port_open_at "$GNOCCHI_PG_HOST" "$GNOCCHI_PG_PORT" &&
    echo "DROP DATABASE IF EXISTS $GNOCCHI_PG_DB WITH (FORCE);" | admin_psql >"$DATABASE_LOG" 2>&1; then
    log "deleted $STORAGE_DIR, $INCOMING_DIR and database $GNOCCHI_PG_DB"
  else
    log "deleted $STORAGE_DIR and $INCOMING_DIR; could not drop database $GNOCCHI_PG_DB (see $DATABASE_LOG)"
  fi
}

do_start() {
  check_names
  do_install
  if api_pid >/dev/null || metricd_pid >/dev/null; then
    log "already running: stopping it for a clean start"
    do_stop
  fi
  if port_open "$GNOCCHI_PORT"; then
    err "port 127.0.0.1:$GNOCCHI_PORT is already in use by a process this script did not start"
    command -v ss >/dev/null && ss -ltnp "sport = :$GNOCCHI_PORT" >&2 || true
    exit 1
  fi

  rm -rf "$STORAGE_DIR" "$INCOMING_DIR" "$CONF_DIR"
  rm -f "$API_LOG" "$METRICD_LOG" "$UPGRADE_LOG"
  write_config
  fresh_database

  local started_at=$SECONDS
  log "gnocchi-upgrade: index schema, storage, 128 sacks, default archive policies"
  if ! env -u PYTHONHOME -u PYTHONPATH "$PYTHON" /usr/bin/gnocchi-upgrade --config-file "$CONF" --config-dir "$CONF_DIR" \
    </dev/null >"$UPGRADE_LOG" 2>&1; then
    err "gnocchi-upgrade failed:"
    show_log "$UPGRADE_LOG"
    exit 1
  fi

  local api metricd
  api="$(launch "$API_LOG" "$UWSGI" --ini "$UWSGI_INI")"
  echo "$api" >"$API_PID"
  metricd="$(launch "$METRICD_LOG" "$PYTHON" /usr/bin/gnocchi-metricd --config-file "$CONF" --config-dir "$CONF_DIR")"
  echo "$metricd" >"$METRICD_PID"
  log "gnocchi-api pid $api (uwsgi, $GNOCCHI_API_PROCESSES x $GNOCCHI_API_THREADS), gnocchi-metricd pid $metricd ($GNOCCHI_METRICD_WORKERS workers);" \
    "waiting for http://127.0.0.1:$GNOCCHI_PORT/v1/status (up to ${GNOCCHI_START_TIMEOUT}s)"

  local deadline=$((SECONDS + GNOCCHI_START_TIMEOUT))
  while :; do
    if ! kill -0 "$api" 2>/dev/null; then
      err "gnocchi-api exited during startup"
      show_log "$API_LOG"
      do_stop >&2
      exit 1
    fi
    if ! kill -0 "$metricd" 2>/dev/null; then
      err "gnocchi-metricd exited during startup"
      show_log "$METRICD_LOG"
      do_stop >&2
      exit 1
    fi
    if api_get /v1/status >/dev/null 2>&1; then
      break
    fi
    if ((SECONDS >= deadline)); then
      err "http://127.0.0.1:$GNOCCHI_PORT/v1/status did not answer within ${GNOCCHI_START_TIMEOUT}s; stopping"
      show_log "$API_LOG"
      show_log "$METRICD_LOG"
      do_stop >&2
      exit 1
    fi
    sleep 0.5
  done
  log "ready: Gnocchi $GNOCCHI_VERSION on http://127.0.0.1:$GNOCCHI_PORT (basic auth, user admin), $((SECONDS - started_at))s; logs in $GNOCCHI_HOME"
}

do_status() {
  local api metricd
  api="$(api_pid)" || api=""
  metricd="$(metricd_pid)" || metricd=""
  if [[ -n "$api" && -n "$metricd" ]]; then
    local backlog
    backlog="$(api_get '/v1/status?details=false' 2>/dev/null)" || backlog="(no answer from /v1/status)"
    echo "running (gnocchi-api pid $api on 127.0.0.1:$GNOCCHI_PORT, gnocchi-metricd pid $metricd, GNOCCHI_HOME=$GNOCCHI_HOME) $backlog"
    return 0
  fi
  if [[ -n "$api" || -n "$metricd" ]]; then
    echo "partly running (gnocchi-api pid ${api:-none}, gnocchi-metricd pid ${metricd:-none}): run stop, then start"
    return 1
  fi
  echo "stopped"
  return 1
}

cmd="${1:-}"
case "$cmd" in
  install) take_lock; do_install; log "packages present: ${PACKAGES[*]} (Gnocchi $GNOCCHI_VERSION)" ;;
  start) take_lock; do_start ;;
  stop) take_lock; do_stop ;;
  restart) take_lock; do_stop; do_start ;;
  status) do_status ;;
  clean) take_lock; do_clean ;;
  -h | --help | help) usage ;;
  *) usage >&2; exit 2 ;;
esac
