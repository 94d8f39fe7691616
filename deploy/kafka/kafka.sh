#!/usr/bin/env bash
# Single-node Apache Kafka 3.9.2 (KRaft) for development and CI, run as a plain
# Java process from Maven Central jars, for machines without a container runtime
# (docs: deploy/kafka/README.md, ARCHITECTURE §6).
#
#   kafka.sh fetch | start | stop | status | wait | logs [-f]
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"

KAFKA_HOST="${KAFKA_HOST:-127.0.0.1}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
# Optional second client listener: the broker also listens on KAFKA_PROXIED_PORT and tells clients
# that connected there to use KAFKA_PROXIED_ADVERTISED (host:port). The fault suite puts a TCP proxy
# at that address to cut one organization off from the broker (docs/reliability.md). Unset: none.
KAFKA_PROXIED_PORT="${KAFKA_PROXIED_PORT:-}"
KAFKA_PROXIED_ADVERTISED="${KAFKA_PROXIED_ADVERTISED:-${KAFKA_HOST}:${KAFKA_PROXIED_PORT}}"
# Optional SASL listener (SASL_PLAINTEXT, SCRAM-SHA-512) on KAFKA_SASL_PORT, for clients that authenticate as
# production's do (docs/messaging.md, Broker security): KAFKA_SASL_USERS="name:password,..." are created when the
# storage is formatted (the first start). The PLAINTEXT listener stays, for the broker itself and the probe.
KAFKA_SASL_PORT="${KAFKA_SASL_PORT:-}"
KAFKA_SASL_USERS="${KAFKA_SASL_USERS:-}"
KAFKA_HOME="${KAFKA_HOME:-$SCRIPT_DIR/.runtime}"
KAFKA_WAIT_SECONDS="${KAFKA_WAIT_SECONDS:-90}"
KAFKA_STOP_SECONDS="${KAFKA_STOP_SECONDS:-30}"
# Small heap: the broker shares a 2-core box with PostgreSQL, the services and the tests.
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"
KAFKA_JVM_OPTS="${KAFKA_JVM_OPTS:--XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true}"

POM="$SCRIPT_DIR/pom.xml"
LOG4J="$SCRIPT_DIR/log4j.properties"
# Jars may be shared between several broker homes (tests run a second broker).
LIBS="${KAFKA_LIBS:-$KAFKA_HOME/libs}"
LIBS_MARKER="$LIBS/.fetched"
DATA="$KAFKA_HOME/data"
PROPS="$KAFKA_HOME/server.properties"
CLUSTER_ID_FILE="$KAFKA_HOME/cluster.id"
PID_FILE="$KAFKA_HOME/kafka.pid"
LOG="$KAFKA_HOME/kafka.log"

say() { printf 'kafka.sh: %s\n' "$*"; }
die() { printf 'kafka.sh: error: %s\n' "$*" >&2; exit 1; }

usage() {
  cat <<EOF
usage: kafka.sh fetch | start | stop | status | wait | logs [-f]

  fetch   download the Kafka jars with Maven (once; skipped when present)
  start   fetch, format storage (once), start the broker in the background, wait
  stop    stop the broker (TERM, then KILL after ${KAFKA_STOP_SECONDS}s); no-op when stopped
  status  print running/stopped; exit 0 when running, 3 when stopped
  wait    block until the broker answers a Kafka API call (KAFKA_WAIT_SECONDS=${KAFKA_WAIT_SECONDS})
  logs    tail the broker log (extra args go to tail, e.g. -f)

env: KAFKA_HOST=$KAFKA_HOST KAFKA_PORT=$KAFKA_PORT KAFKA_CONTROLLER_PORT=$KAFKA_CONTROLLER_PORT
     KAFKA_HOME=$KAFKA_HOME
EOF
}

# True when something accepts TCP connections on host:port (bash's /dev/tcp, no extra tools).
port_open() {
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null
}

# Who listens on a port, for error messages only; best effort.
port_owner() {
  if command -v ss >/dev/null 2>&1; then
    ss -ltnpH "sport = :$1" 2>/dev/null | sed -n 's/.*users:((\(.*\)))/\1/p' | head -n 1
  fi
}

# Prints the pid of the broker we started, if it is still alive. Checks the
# command line too, so a stale pid file whose pid got reused is not mistaken for Kafka.
running_pid() {
  [[ -s "$PID_FILE" ]] || return 1
  local pid
  pid="$(<"$PID_FILE")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  grep -qa 'kafka\.Kafka' "/proc/$pid/cmdline" 2>/dev/null || return 1
  printf '%s\n' "$pid"
}

java_cp() {
  command -v java >/dev/null 2>&1 || die "java not found on PATH (Kafka 3.9 needs Java 11+; 17 recommended)"
  java -cp "$LIBS/*" -Dlog4j.configuration="file:$LOG4J" "$@"
}

cmd_fetch() {
  # The marker records the pom's checksum, so editing the pom (e.g. a version bump) refetches.
  local sum
  sum="$(sha256sum "$POM" | cut -d' ' -f1)"
  if [[ -f "$LIBS_MARKER" && "$(<"$LIBS_MARKER")" == "$sum" ]]; then
    return 0
  fi
  command -v mvn >/dev/null 2>&1 || die "mvn not found on PATH; it is needed once to fetch the Kafka jars"
  mkdir -p "$KAFKA_HOME"
  local tmp="$KAFKA_HOME/libs.tmp.$$"
  rm -rf "$tmp"
  say "fetching Kafka jars with Maven into $LIBS"
  # Into a temporary folder first, so an interrupted download never looks complete.
  # Maven's output goes to a file (it prints colour codes even with -q -B); shown on failure.
  if ! mvn -q -B -Dstyle.color=never -f "$POM" dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$tmp" >"$KAFKA_HOME/fetch.log" 2>&1; then
    tail -n 30 "$KAFKA_HOME/fetch.log" >&2
    rm -rf "$tmp"
    die "mvn dependency:copy-dependencies failed (network or Maven Central unreachable?); full output in $KAFKA_HOME/fetch.log"
  fi
  ls "$tmp"/kafka_2.13-*.jar >/dev/null 2>&1 || { rm -rf "$tmp"; die "Maven finished but no kafka_2.13 jar was copied"; }
  rm -rf "$LIBS"
  mv "$tmp" "$LIBS"
  printf '%s\n' "$sum" >"$LIBS_MARKER"
}

write_properties() {
  local listeners="PLAINTEXT://${KAFKA_HOST}:${KAFKA_PORT},CONTROLLER://${KAFKA_HOST}:${KAFKA_CONTROLLER_PORT}"
  local advertised="PLAINTEXT://${KAFKA_HOST}:${KAFKA_PORT}" protocols="PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"
  if [[ -n "$KAFKA_PROXIED_PORT" ]]; then
    listeners+=",PROXIED://${KAFKA_HOST}:${KAFKA_PROXIED_PORT}"
    advertised+=",PROXIED://${KAFKA_PROXIED_ADVERTISED}"
    protocols+=",PROXIED:PLAINTEXT"
  fi
  if [[ -n "$KAFKA_SASL_PORT" ]]; then
    listeners+=",SASL://${KAFKA_HOST}:${KAFKA_SASL_PORT}"
    advertised+=",SASL://${KAFKA_HOST}:${KAFKA_SASL_PORT}"
    protocols+=",SASL:SASL_PLAINTEXT"
  fi
  cat >"$PROPS" <<EOF
# Generated by deploy/kafka/kafka.sh on every start; edit the script, not this file.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@${KAFKA_HOST}:${KAFKA_CONTROLLER_PORT}
listeners=${listeners}
advertised.listeners=${advertised}
listener.security.protocol.map=${protocols}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=${DATA}

# One node: every replication factor and ISR minimum is 1.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
min.insync.replicas=1
default.replication.factor=1
unclean.leader.election.enable=false

# Topics are created on purpose (by services and tests), never by a typo.
auto.create.topics.enable=false
num.partitions=1
# The ledger's history lives in these logs: retention never drops it.
log.retention.ms=-1
log.retention.bytes=-1
# Tests join consumer groups constantly; do not wait 3 s for more members.
group.initial.rebalance.delay.ms=0

# Sized for a 2-core machine.
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
background.threads=4
EOF
  if [[ -n "$KAFKA_SASL_PORT" ]]; then
    cat >>"$PROPS" <<EOF

# SASL listener: SCRAM-SHA-512 users stored in the cluster metadata (created at format time).
sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.sasl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
EOF
  fi
}

ensure_formatted() {
  mkdir -p "$DATA"
  if [[ ! -s "$CLUSTER_ID_FILE" ]]; then
    local id
    if [[ -f "$DATA/meta.properties" ]]; then
      # Storage formatted earlier but the id file was lost: keep the id the data carries.
      id="$(sed -n 's/^cluster\.id=//p' "$DATA/meta.properties")"
    else
      id="$(java_cp kafka.tools.StorageTool random-uuid | tail -n 1 | tr -d '[:space:]')"
    fi
    [[ "$id" =~ ^[A-Za-z0-9_-]{22}$ ]] || die "could not obtain a Kafka cluster id (got '$id')"
    printf '%s\n' "$id" >"$CLUSTER_ID_FILE"
  fi
  if [[ ! -f "$DATA/meta.properties" ]]; then
    say "formatting storage in $DATA (cluster id $(<"$CLUSTER_ID_FILE"))"
    # A password may not hold the characters of --add-scram's own syntax.
    local scram=() user users user_re='^[A-Za-z0-9._-]+:[^]=,[]+$'
    if [[ -n "$KAFKA_SASL_USERS" ]]; then
      IFS=',' read -r -a users <<<"$KAFKA_SASL_USERS"
      for user in "${users[@]}"; do
        [[ "$user" =~ $user_re ]] || die "KAFKA_SASL_USERS entries are name:password (got '${user%%:*}:…')"
        scram+=(--add-scram "SCRAM-SHA-512=[name=${user%%:*},password=${user#*:}]")
      done
    fi
    java_cp kafka.tools.StorageTool format -t "$(<"$CLUSTER_ID_FILE")" -c "$PROPS" --ignore-formatted "${scram[@]}" >>"$LOG" 2>&1 \
      || { tail -n 20 "$LOG" >&2; die "kafka.tools.StorageTool format failed"; }
  fi
}

# A real Kafka API round trip (Metadata via kafkajs admin.listTopics), not just an
# open socket: the listener accepts connections before the broker can serve requests.
probe() {
  port_open "$KAFKA_HOST" "$KAFKA_PORT" || return 1
  if command -v node >/dev/null 2>&1 && [[ -d "$REPO_ROOT/node_modules/kafkajs" ]]; then
    KAFKA_PROBE_BROKER="$KAFKA_HOST:$KAFKA_PORT" KAFKA_PROBE_ROOT="$REPO_ROOT" timeout 10 node -e '
      const { Kafka, logLevel } = require(require.resolve("kafkajs", { paths: [process.env.KAFKA_PROBE_ROOT] }));
      const admin = new Kafka({
        clientId: "kafka-sh-probe",
        brokers: [process.env.KAFKA_PROBE_BROKER],
        logLevel: logLevel.NOTHING,
        connectionTimeout: 2000,
        requestTimeout: 4000,
        retry: { retries: 0 },
      }).admin();
      setTimeout(() => process.exit(1), 8000);
      admin.connect()
        .then(() => admin.listTopics())
        .then(() => admin.disconnect())
        .then(() => process.exit(0), () => process.exit(1));
    ' >/dev/null 2>&1
  else
    # No Node/kafkajs: the broker's own ApiVersions tool (slower, starts a JVM).
    [[ -f "$LIBS_MARKER" ]] || return 1
    timeout 20 java -cp "$LIBS/*" -Dlog4j.configuration="file:$LOG4J" kafka.admin.BrokerApiVersionsCommand \
      --bootstrap-server "$KAFKA_HOST:$KAFKA_PORT" >/dev/null 2>&1
  fi
}

cmd_wait() {
  local deadline=$((SECONDS + KAFKA_WAIT_SECONDS))
  while ((SECONDS < deadline)); do
    if probe; then
      say "broker ready at $KAFKA_HOST:$KAFKA_PORT"
      return 0
    fi
    # A pid file whose process is gone means our broker died: say so now, not after the timeout.
    if [[ -s "$PID_FILE" ]] && ! running_pid >/dev/null; then
      printf 'kafka.sh: error: the broker (pid %s) exited during startup; last log lines:\n' "$(<"$PID_FILE")" >&2
      [[ -f "$LOG" ]] && tail -n 40 "$LOG" >&2
      exit 1
    fi
    sleep 1
  done
  printf 'kafka.sh: error: no Kafka broker answered at %s:%s within %ss (KAFKA_WAIT_SECONDS)\n' \
    "$KAFKA_HOST" "$KAFKA_PORT" "$KAFKA_WAIT_SECONDS" >&2
  if [[ -f "$LOG" ]]; then
    printf 'last lines of %s:\n' "$LOG" >&2
    tail -n 40 "$LOG" >&2
  fi
  exit 1
}

cmd_start() {
  local pid owner port
  if pid="$(running_pid)"; then
    if port_open "$KAFKA_HOST" "$KAFKA_PORT"; then
      say "already running (pid $pid) at $KAFKA_HOST:$KAFKA_PORT"
      return 0
    fi
    say "started earlier (pid $pid) but not answering yet; waiting"
    cmd_wait
    return
  fi
  for port in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT" ${KAFKA_PROXIED_PORT} ${KAFKA_SASL_PORT}; do
    if port_open "$KAFKA_HOST" "$port"; then
      owner="$(port_owner "$port")"
      die "port $KAFKA_HOST:$port is already taken by another process${owner:+ ($owner)}, not by a broker this script started (pid file $PID_FILE). Stop it, or choose other ports with KAFKA_PORT / KAFKA_CONTROLLER_PORT."
    fi
  done

  mkdir -p "$KAFKA_HOME"
  cmd_fetch
  # Keep the previous run's log for post-mortems; start this run's log fresh.
  [[ -f "$LOG" ]] && mv -f "$LOG" "$LOG.1"
  write_properties
  ensure_formatted
  rm -f "$PID_FILE"

  local -a heap jvm
  read -r -a heap <<<"$KAFKA_HEAP_OPTS"
  read -r -a jvm <<<"$KAFKA_JVM_OPTS"
  say "starting broker at $KAFKA_HOST:$KAFKA_PORT (controller $KAFKA_CONTROLLER_PORT), log $LOG"
  # setsid+nohup: the broker outlives the shell (or test runner) that started it.
  # The inner bash writes its own pid and then execs java, so the pid file holds
  # the JVM's pid even when setsid had to fork.
  setsid nohup bash -c 'echo $$ >"$0"; exec "$@"' "$PID_FILE" \
    java "${heap[@]}" "${jvm[@]}" -Dlog4j.configuration="file:$LOG4J" -Dkafka.logs.dir="$KAFKA_HOME" \
    -cp "$LIBS/*" kafka.Kafka "$PROPS" \
    >>"$LOG" 2>&1 </dev/null &

  local i
  for ((i = 0; i < 50; i++)); do
    [[ -s "$PID_FILE" ]] && break
    sleep 0.1
  done
  [[ -s "$PID_FILE" ]] || die "the broker process did not start (no pid file $PID_FILE); see $LOG"
  say "pid $(<"$PID_FILE")"
  cmd_wait
}

cmd_stop() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$PID_FILE"
    say "not running"
    return 0
  fi
  say "stopping broker (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + KAFKA_STOP_SECONDS))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "still alive after ${KAFKA_STOP_SECONDS}s; sending KILL"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
  rm -f "$PID_FILE"
  say "stopped"
}

cmd_status() {
  local pid
  if pid="$(running_pid)"; then
    if port_open "$KAFKA_HOST" "$KAFKA_PORT"; then
      say "running (pid $pid) at $KAFKA_HOST:$KAFKA_PORT"
    else
      say "running (pid $pid) but $KAFKA_HOST:$KAFKA_PORT is not accepting connections yet"
    fi
    return 0
  fi
  say "stopped"
  exit 3
}

cmd_logs() {
  [[ -f "$LOG" ]] || { say "no log yet at $LOG"; return 0; }
  tail -n "${KAFKA_LOG_LINES:-100}" "$@" "$LOG"
}

main() {
  local cmd="${1:-}"
  shift || true
  case "$cmd" in
    fetch) cmd_fetch ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    wait) cmd_wait ;;
    logs) cmd_logs "$@" ;;
    -h | --help | help) usage ;;
    *)
      usage >&2
      exit 2
      ;;
  esac
}

main "$@"
