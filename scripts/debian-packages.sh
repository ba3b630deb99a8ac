#!/usr/bin/env bash
# Installs the Debian packages the tests use as reference peers and real clients
# (never runtime dependencies of Cumulus). Skips what is already installed.
set -euo pipefail
PACKAGES=(python3-openstackclient python3-gnocchiclient python3-ceilometer python3-pycadf python3-oslo.messaging python3-gnocchi python3-cloudkittyclient python3-aodhclient chromium prometheus)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "Debian packages present: ${PACKAGES[*]}"
  exit 0
fi
echo "installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
