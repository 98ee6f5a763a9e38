#!/usr/bin/env bash
# Install everything the tests and the lab need on a fresh Debian machine:
# host packages (apt) and the controller's virtualenv (pip). Safe to rerun: it only
# installs what is missing, so a second run costs a second or two.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
# (without the shellcheck package, ansible-test sanity skips its shellcheck test.)
# openssl: the controller makes the replication CA and certificates with it (docs/tls.md).
HOST_PACKAGES=(podman runc debootstrap netavark aardvark-dns iptables postgresql uidmap iproute2 shellcheck openssl)

missing=()
for pkg in "${HOST_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    echo "bootstrap: missing packages ${missing[*]}; run as root or install them" >&2
    exit 1
  fi
  echo "bootstrap: apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The Debian package creates and starts a cluster on the host; the tests never use it
# (they start their own clusters on free ports), so it may stay as it is.

if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
stamp="$VENV/.requirements.sha"
want=$(sha256sum requirements-dev.txt | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "bootstrap: pip install -r requirements-dev.txt"
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q -r requirements-dev.txt
  echo "$want" >"$stamp"
fi
echo "bootstrap: ok"
