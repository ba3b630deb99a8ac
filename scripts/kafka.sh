#!/usr/bin/env bash
# Local Apache Kafka broker (KRaft: one combined broker+controller, no ZooKeeper)
# for tests and CI. The jars come from Maven Central through scripts/kafka/pom.xml.
#
#   bash scripts/kafka.sh install   # copy kafka_2.13 + runtime deps into $KAFKA_HOME/lib
#   bash scripts/kafka.sh start     # install if needed, format storage once, start, wait until ready
#   bash scripts/kafka.sh stop      # SIGTERM, wait up to 30 s, then SIGKILL (exit 0 if nothing runs)
#   bash scripts/kafka.sh restart   # stop + start, data is kept
#   bash scripts/kafka.sh status    # "running ..." exit 0 / "stopped" exit 1
#   bash scripts/kafka.sh reset     # stop and delete $KAFKA_HOME/data (jars are kept)
#
# Environment:
#   KAFKA_HOME             default <repo>/.cache/kafka (a relative path is taken from the repo root)
#   KAFKA_VERSION          default 3.9.1 (passed to the pom as -Dkafka.version)
#   KAFKA_PORT             default 9092 (PLAINTEXT listener on 127.0.0.1)
#   KAFKA_CONTROLLER_PORT  default 9093 (CONTROLLER listener on 127.0.0.1)
#   KAFKA_CLUSTER_ID       default a fixed base64 uuid, used only when formatting
#   KAFKA_START_TIMEOUT    seconds to wait for readiness, default 60
#   KAFKA_HEAP_OPTS        default "-Xms256m -Xmx512m"
#   KAFKA_JVM_OPTS         extra JVM flags, default empty
#   JAVA_HOME              java is $JAVA_HOME/bin/java when set, else java from PATH
#
# Files under $KAFKA_HOME: lib/ (jars), .installed (version marker), install.log (mvn output),
# config/server.properties + config/log4j.properties (rewritten on every start), data/ (KRaft
# metadata + topic data), logs/server.log (broker log, INFO), logs/server.out (JVM stdout/stderr),
# logs/format.out (StorageTool), kafka.pid.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT_DIR="$(cd "$SCRIPT_DIR/.." && pwd)"
POM="$SCRIPT_DIR/kafka/pom.xml"

KAFKA_VERSION="${KAFKA_VERSION:-3.9.1}"
KAFKA_HOME="${KAFKA_HOME:-.cache/kafka}"
case "$KAFKA_HOME" in
  /*) ;;
  *) KAFKA_HOME="$ROOT_DIR/$KAFKA_HOME" ;;
esac
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
# 16 bytes "cumulus-kafka-01", base64url without padding (what StorageTool random-uuid prints).
KAFKA_CLUSTER_ID="${KAFKA_CLUSTER_ID:-Y3VtdWx1cy1rYWZrYS0wMQ}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-60}"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"
KAFKA_JVM_OPTS="${KAFKA_JVM_OPTS:-}"
STOP_TIMEOUT=30

LIB_DIR="$KAFKA_HOME/lib"
CONFIG_DIR="$KAFKA_HOME/config"
DATA_DIR="$KAFKA_HOME/data"
LOG_DIR="$KAFKA_HOME/logs"
PID_FILE="$KAFKA_HOME/kafka.pid"
MARKER="$KAFKA_HOME/.installed"
PROPS="$CONFIG_DIR/server.properties"
LOG4J="$CONFIG_DIR/log4j.properties"
SERVER_LOG="$LOG_DIR/server.log"
SERVER_OUT="$LOG_DIR/server.out"

if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then
  JAVA="$JAVA_HOME/bin/java"
else
  JAVA="java"
fi

log() { echo "kafka.sh: $*"; }
err() { echo "kafka.sh: $*" >&2; }

usage() {
  cat <<EOF
usage: $(basename "$0") install|start|stop|restart|status|reset
  KAFKA_HOME=$KAFKA_HOME  KAFKA_VERSION=$KAFKA_VERSION  KAFKA_PORT=$KAFKA_PORT  KAFKA_CONTROLLER_PORT=$KAFKA_CONTROLLER_PORT
EOF
}

# Serialise commands that change state (parallel test workers may call start/restart at once).
# fd 9 must not leak into the broker (see start_broker), or the lock would be held while it runs.
take_lock() {
  mkdir -p "$KAFKA_HOME"
  exec 9>"$KAFKA_HOME/.lock"
  if ! flock -w 120 9; then
    err "could not get $KAFKA_HOME/.lock within 120 s"
    exit 1
  fi
}

# ---------------------------------------------------------------- install

marker_text() {
  # Version first; the pom's checksum makes an edited pom reinstall too.
  echo "$KAFKA_VERSION $(sha256sum "$POM" | cut -d' ' -f1)"
}

is_installed() {
  [[ -f "$MARKER" && "$(cat "$MARKER")" == "$(marker_text)" ]] &&
    [[ -f "$LIB_DIR/kafka_2.13-$KAFKA_VERSION.jar" ]]
}

do_install() {
  if is_installed; then
    return 0
  fi
  command -v mvn >/dev/null || { err "mvn not found on PATH"; exit 1; }
  log "installing Kafka $KAFKA_VERSION jars into $LIB_DIR (mvn dependency:copy-dependencies)"
  local tmp="$KAFKA_HOME/lib.tmp"
  local mvn_log="$KAFKA_HOME/install.log"
  rm -rf "$tmp"
  mkdir -p "$KAFKA_HOME"
  # Maven prints its errors on stdout (and Debian's 3.8 an ANSI reset even with -q -B):
  # keep it in a file and show it only on failure.
  if ! mvn -q -B -Dstyle.color=never -f "$POM" \
      -Dkafka.version="$KAFKA_VERSION" \
      dependency:copy-dependencies -DoutputDirectory="$tmp" >"$mvn_log" 2>&1; then
    rm -rf "$tmp"
    err "mvn failed to copy the Kafka $KAFKA_VERSION runtime:"
    tail -n 40 "$mvn_log" >&2
    exit 1
  fi
  if [[ ! -f "$tmp/kafka_2.13-$KAFKA_VERSION.jar" ]]; then
    rm -rf "$tmp"
    err "mvn ran but kafka_2.13-$KAFKA_VERSION.jar is not in the copy"
    exit 1
  fi
  rm -rf "$LIB_DIR"
  mv "$tmp" "$LIB_DIR"
  marker_text >"$MARKER"
  log "installed $(find "$LIB_DIR" -name '*.jar' | wc -l) jars"
}

# ---------------------------------------------------------------- process helpers

# Prints the recorded pid when that process is alive and is our broker.
running_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid="$(tr -dc '0-9' <"$PID_FILE")"
  [[ -n "$pid" ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  # Guard against pid reuse: the process must be a JVM running kafka.Kafka.
  if [[ -r "/proc/$pid/cmdline" ]] && ! tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q 'kafka\.Kafka'; then
    return 1
  fi
  echo "$pid"
}

port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Sends a Kafka Metadata v4 request (all topics) and checks that the reply carries our
# correlation id and lists node 1. Pure bash: no client tools are on the classpath.
metadata_ok() {
  local hex
  hex="$(
    exec 2>/dev/null
    exec 3<>"/dev/tcp/127.0.0.1/$KAFKA_PORT" || exit 1
    # size=22 | api_key=3 api_version=4 correlation_id=42 client_id="kafkash"
    # | topics=null (-1) allow_auto_topic_creation=false
    printf '\x00\x00\x00\x16\x00\x03\x00\x04\x00\x00\x00\x2a\x00\x07kafkash\xff\xff\xff\xff\x00' >&3
    # size(4) correlation_id(4) throttle_time_ms(4) brokers_count(4) first node_id(4)
    timeout 3 head -c 20 <&3 | od -An -v -tx1 | tr -d ' \n'
  )" || return 1
  [[ ${#hex} -eq 40 ]] || return 1
  [[ "${hex:8:8}" == "0000002a" ]] || return 1
  [[ "${hex:24:8}" != "00000000" ]] || return 1
  [[ "${hex:32:8}" == "00000001" ]]
}

show_logs() {
  if [[ -s "$SERVER_LOG" ]]; then
    err "---- last 40 lines of $SERVER_LOG ----"
    tail -n 40 "$SERVER_LOG" >&2
  fi
  if [[ -s "$SERVER_OUT" ]]; then
    err "---- last 40 lines of $SERVER_OUT ----"
    tail -n 40 "$SERVER_OUT" >&2
  fi
}

classpath() {
  # Every jar in lib; java expands "dir/*" itself.
  echo "$LIB_DIR/*"
}

# ---------------------------------------------------------------- config

write_config() {
  mkdir -p "$CONFIG_DIR" "$DATA_DIR" "$LOG_DIR"
  cat >"$PROPS" <<EOF
# Written by scripts/kafka.sh on every start; edit the script, not this file.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
log.dirs=$DATA_DIR
num.partitions=3
default.replication.factor=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
delete.topic.enable=true
# Small machine (2 cores): fewer threads than the defaults.
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
background.threads=4
EOF

  cat >"$LOG4J" <<EOF
# Written by scripts/kafka.sh. Broker log at INFO to a file, nothing on the console.
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.RollingFileAppender
log4j.appender.file.File=$SERVER_LOG
log4j.appender.file.Append=true
log4j.appender.file.MaxFileSize=50MB
log4j.appender.file.MaxBackupIndex=2
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
# Per-request logging is very chatty at INFO/DEBUG.
log4j.logger.kafka.request.logger=WARN, file
log4j.additivity.kafka.request.logger=false
log4j.logger.kafka.network.RequestChannel\$=WARN, file
log4j.additivity.kafka.network.RequestChannel\$=false
log4j.logger.org.apache.zookeeper=WARN
EOF
}

format_storage() {
  if [[ -f "$DATA_DIR/meta.properties" ]]; then
    return 0
  fi
  log "formatting KRaft storage in $DATA_DIR (cluster id $KAFKA_CLUSTER_ID)"
  if ! "$JAVA" -Xmx256m -cp "$(classpath)" \
      -Dlog4j.configuration="file:$LOG4J" -Dkafka.logs.dir="$LOG_DIR" \
      kafka.tools.StorageTool format -t "$KAFKA_CLUSTER_ID" -c "$PROPS" --ignore-formatted \
      >"$LOG_DIR/format.out" 2>&1; then
    err "kafka.tools.StorageTool format failed:"
    tail -n 40 "$LOG_DIR/format.out" >&2
    exit 1
  fi
}

# ---------------------------------------------------------------- commands

do_start() {
  local pid
  if pid="$(running_pid)"; then
    log "already running (pid $pid, 127.0.0.1:$KAFKA_PORT)"
    return 0
  fi
  rm -f "$PID_FILE"

  local p
  for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
    if port_open "$p"; then
      err "port 127.0.0.1:$p is already in use by a process not recorded in $PID_FILE"
      command -v ss >/dev/null && ss -ltnp "sport = :$p" >&2 || true
      exit 1
    fi
  done

  do_install
  write_config
  format_storage

  # Only "Kafka Server started" lines written after this point count.
  local log_offset=0
  [[ -f "$SERVER_LOG" ]] && log_offset="$(stat -c %s "$SERVER_LOG")"

  local started_at=$SECONDS
  # shellcheck disable=SC2086  # heap/JVM opts are word lists
  nohup "$JAVA" $KAFKA_HEAP_OPTS \
    -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
    -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true \
    $KAFKA_JVM_OPTS \
    -Dlog4j.configuration="file:$LOG4J" -Dkafka.logs.dir="$LOG_DIR" \
    -cp "$(classpath)" kafka.Kafka "$PROPS" \
    </dev/null >"$SERVER_OUT" 2>&1 9>&- &
  pid=$!
  echo "$pid" >"$PID_FILE"
  log "started pid $pid, waiting for 127.0.0.1:$KAFKA_PORT (up to ${KAFKA_START_TIMEOUT}s)"

  local deadline=$((SECONDS + KAFKA_START_TIMEOUT)) size
  while :; do
    if ! kill -0 "$pid" 2>/dev/null; then
      wait "$pid" 2>/dev/null || true
      rm -f "$PID_FILE"
      err "broker exited during startup"
      show_logs
      exit 1
    fi
    if port_open "$KAFKA_PORT" && metadata_ok; then
      size="$(stat -c %s "$SERVER_LOG" 2>/dev/null || echo 0)"
      # A smaller file means log4j rolled it over: look at all of it.
      ((size < log_offset)) && log_offset=0
      if tail -c "+$((log_offset + 1))" "$SERVER_LOG" 2>/dev/null | grep -q 'Kafka Server started'; then
        break
      fi
    fi
    if ((SECONDS >= deadline)); then
      err "broker not ready after ${KAFKA_START_TIMEOUT}s; stopping it"
      show_logs
      kill -KILL "$pid" 2>/dev/null || true
      rm -f "$PID_FILE"
      exit 1
    fi
    sleep 0.25
  done
  log "ready on 127.0.0.1:$KAFKA_PORT (pid $pid, $((SECONDS - started_at))s)"
}

do_stop() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$PID_FILE"
    log "not running"
    return 0
  fi
  log "stopping pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + STOP_TIMEOUT))
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      err "pid $pid still alive after ${STOP_TIMEOUT}s, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.5
      break
    fi
    sleep 0.2
  done
  rm -f "$PID_FILE"
  log "stopped"
}

do_status() {
  local pid
  if pid="$(running_pid)"; then
    echo "running (pid $pid, 127.0.0.1:$KAFKA_PORT, KAFKA_HOME=$KAFKA_HOME)"
    return 0
  fi
  echo "stopped"
  return 1
}

do_reset() {
  do_stop
  rm -rf "$DATA_DIR"
  log "deleted $DATA_DIR"
}

cmd="${1:-}"
case "$cmd" in
  install) take_lock; do_install; log "Kafka $KAFKA_VERSION in $LIB_DIR" ;;
  start) take_lock; do_start ;;
  stop) take_lock; do_stop ;;
  restart) take_lock; do_stop; do_start ;;
  status) do_status ;;
  reset) take_lock; do_reset ;;
  -h | --help | help) usage ;;
  *) usage >&2; exit 2 ;;
esac
