#!/usr/bin/env bash
# A Debian Python peer for a benchmark, installed as a library only (no service runs):
#   aodh        Aodh 15 (python3-aodh + python3-gnocchiclient): its gnocchi threshold evaluators, for bench/alerts.ts
#   cloudkitty  CloudKitty 17 (python3-cloudkitty): its HashMap rating processor, models and migrations, for bench/rating.ts
# The benches call `install` on first use, then run bench/<peer>-peer.py with /usr/bin/python3.
#
#   bash scripts/bench-peer.sh aodh|cloudkitty install   # the packages if missing (idempotent; needs root for apt)
#   bash scripts/bench-peer.sh aodh|cloudkitty check     # exit 0 when the peer's modules import
#
# Never a runtime dependency of Cumulus. The apt log goes to .cache/<peer>-install.log.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PEER="${1:-}"
case "$PEER" in
  aodh) PACKAGES=(python3-aodh python3-gnocchiclient); MODULES='aodh.evaluator.gnocchi, gnocchiclient.v1.client' ;;
  cloudkitty) PACKAGES=(python3-cloudkitty); MODULES='cloudkitty.rating.hash, cloudkitty.rating.hash.db.api' ;;
  *) echo "usage: $0 aodh|cloudkitty install|check" >&2; exit 2 ;;
esac
LOG="$ROOT/.cache/$PEER-install.log"

check() { /usr/bin/python3 -c "import $MODULES" >/dev/null 2>&1; }

case "${2:-install}" in
  check) check ;;
  install)
    missing=()
    for p in "${PACKAGES[@]}"; do
      dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
      mkdir -p "$(dirname "$LOG")"
      if [ "$(id -u)" -ne 0 ]; then
        echo "missing Debian packages: ${missing[*]} (run 'sudo bash scripts/bench-peer.sh $PEER install')" >&2
        exit 1
      fi
      # The library packages start no service; recommends are skipped.
      if ! { DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$LOG" 2>&1; then
        echo "apt-get failed to install ${missing[*]}; see $LOG" >&2
        tail -20 "$LOG" >&2
        exit 1
      fi
    fi
    check || { echo "${PACKAGES[0]} is installed but 'import $MODULES' fails" >&2; exit 1; }
    ;;
  *) echo "usage: $0 $PEER install|check" >&2; exit 2 ;;
esac
