#!/usr/bin/env bash
# Makes sure a RabbitMQ broker answers on 127.0.0.1:5672 (guest/guest), starting the
# machine's own rabbitmq-server (Debian package) when it is installed but stopped.
# Usage: scripts/rabbitmq.sh ensure|status
set -euo pipefail
HOST=127.0.0.1
PORT="${RABBITMQ_PORT:-5672}"

listening() { (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null; }

case "${1:-status}" in
  status)
    if listening; then echo "running"; else echo "stopped"; exit 1; fi
    ;;
  ensure)
    if listening; then echo "RabbitMQ is up on $HOST:$PORT"; exit 0; fi
    if ! command -v rabbitmq-server >/dev/null 2>&1; then
      echo "rabbitmq-server is not installed; installing Debian's package" >&2
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq && apt-get install -y -qq rabbitmq-server >/dev/null
    fi
    rabbitmq-server -detached
    for _ in $(seq 1 60); do
      if listening; then echo "RabbitMQ is up on $HOST:$PORT"; exit 0; fi
      sleep 1
    done
    echo "RabbitMQ did not start within 60 s" >&2
    exit 1
    ;;
  *)
    echo "usage: $0 ensure|status" >&2
    exit 2
    ;;
esac
