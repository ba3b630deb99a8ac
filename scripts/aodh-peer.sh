#!/usr/bin/env bash
# Aodh 15 (Debian's python3-aodh) as the alerts benchmark's peer: only the library
# is installed (its gnocchi threshold evaluators and gnocchiclient); no Aodh service runs.
# bench/alerts.ts calls `install` on first use, then runs bench/aodh-peer.py with /usr/bin/python3.
#
#   bash scripts/aodh-peer.sh install   # python3-aodh + python3-gnocchiclient if missing (idempotent; needs root for apt)
#   bash scripts/aodh-peer.sh check     # exit 0 when `import aodh.evaluator.gnocchi` works
#
# Never a runtime dependency of Cumulus. The apt log goes to .cache/aodh-install.log.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOG="$ROOT/.cache/aodh-install.log"
PACKAGES=(python3-aodh python3-gnocchiclient)

check() { /usr/bin/python3 -c 'import aodh.evaluator.gnocchi, gnocchiclient.v1.client' >/dev/null 2>&1; }

case "${1:-install}" in
  check) check ;;
  install)
    missing=()
    for p in "${PACKAGES[@]}"; do
      dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
      mkdir -p "$(dirname "$LOG")"
      if [ "$(id -u)" -ne 0 ]; then
        echo "missing Debian packages: ${missing[*]} (run 'sudo bash scripts/aodh-peer.sh install')" >&2
        exit 1
      fi
      # policy-rc.d-style safety: the library package starts no service; recommends are skipped.
      if ! { DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$LOG" 2>&1; then
        echo "apt-get failed to install ${missing[*]}; see $LOG" >&2
        tail -20 "$LOG" >&2
        exit 1
      fi
    fi
    check || { echo "python3-aodh is installed but 'import aodh.evaluator.gnocchi' fails" >&2; exit 1; }
    ;;
  *) echo "usage: $0 install|check" >&2; exit 2 ;;
esac
