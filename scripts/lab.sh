#!/usr/bin/env bash
# A local lab of three systemd containers (pgrepl-lab-pg1 primary, -pg2 and -pg3 standbys)
# on their own podman network, converged with site.yml, then the status table.
#   scripts/lab.sh up     create or reuse the containers, run site.yml and playbooks/status.yml
#   scripts/lab.sh down   remove the containers, the network and the lab's inventory
#   scripts/lab.sh containers   only create or reuse the containers (no playbook run)
# LAB_DISTRO=trixie gives Debian 13 / PostgreSQL 17 (default bookworm: Debian 12 / 15).
# LAB_STANDBYS=N gives N standbys (-pg2 .. -pg<N+1>; default 2); `down` removes every
# <prefix>-pgN container whatever N was.
# LAB_PREFIX names another lab beside this one (containers <prefix>-pg1..3, network <prefix>,
# state in .cache/<prefix without 'pgrepl-'>); tests/system/test_faults.py uses
# pgrepl-faults. Default pgrepl-lab.
# Images come from scripts/build-images.sh (`make lab` builds them first).
set -euo pipefail
cd "$(dirname "$0")/.."

export PATH="$PWD/.venv/bin:$PATH"
export ANSIBLE_CONFIG=${ANSIBLE_CONFIG:-$PWD/ansible.cfg}
export CONTAINERS_CONF=${CONTAINERS_CONF:-$PWD/molecule/containers.conf}
DISTRO=${LAB_DISTRO:-bookworm}
IMAGE=localhost/pgrepl-systemd:$DISTRO
PREFIX=${LAB_PREFIX:-pgrepl-lab}
NETWORK=$PREFIX
STANDBYS=${LAB_STANDBYS:-2}
NODES=()
for ((i = 1; i <= STANDBYS + 1; i++)); do NODES+=("$PREFIX-pg$i"); done
STATE=.cache/${PREFIX#pgrepl-}
INVENTORY=$STATE/inventory.yml

log() { printf 'lab: %s\n' "$*" >&2; }

state_of() {  # container -> running / exited / ... / absent
  podman container inspect --format '{{.State.Status}}' "$1" 2>/dev/null || echo absent
}

start_node() {
  local name=$1
  case "$(state_of "$name")" in
    running) log "$name: running, reused" ;;
    absent)
      log "$name: starting from $IMAGE"
      podman run -d --name "$name" --hostname "$name" --network "$NETWORK" \
        --systemd always --ulimit nofile=20000:20000 --ulimit nproc=4096:4096 \
        "$IMAGE" /sbin/init >/dev/null
      ;;
    *)
      log "$name: restarting the stopped container"
      podman start "$name" >/dev/null
      ;;
  esac
}

wait_for_systemd() {  # "degraded" is fine for a test host: some unit we do not need failed
  local name=$1 state
  state=$(podman exec "$name" systemctl is-system-running --wait 2>/dev/null || true)
  case "$state" in
    running | degraded) ;;
    *) log "$name: systemd did not come up ($state)"; exit 1 ;;
  esac
}

# The lab's password lives under .cache (ignored by git), generated once.
write_inventory() {
  mkdir -p "$STATE"
  chmod 0700 "$STATE"
  if [ ! -s "$STATE/replication-password" ]; then
    (umask 077 && python3 -c 'import secrets; print(secrets.token_urlsafe(24))' \
      >"$STATE/replication-password")
  fi
  (umask 077 && cat >"$INVENTORY" <<YAML
# Written by scripts/lab.sh; removed by 'make lab-down'.
all:
  vars:
    ansible_connection: pgrepl_podman
    ansible_python_interpreter: /usr/bin/python3
    postgresql_replication_password: "$(cat "$STATE/replication-password")"
  children:
    primary:
      hosts:
        ${NODES[0]}:
    standby:
      hosts:
$(printf '        %s:\n' "${NODES[@]:1}")
YAML
  )
}

containers() {
  podman image exists "$IMAGE" || { log "$IMAGE is missing: run 'make images'"; exit 1; }
  podman network exists "$NETWORK" || podman network create "$NETWORK" >/dev/null
  local node
  for node in "${NODES[@]}"; do start_node "$node"; done
  for node in "${NODES[@]}"; do wait_for_systemd "$node"; done
}

up() {
  containers
  write_inventory
  ansible-playbook -i "$INVENTORY" site.yml
  ansible-playbook -i "$INVENTORY" playbooks/status.yml
  log "up: inventory in $INVENTORY; 'make lab-down' removes the lab"
}

down() {
  local node
  for node in $(podman container ls -a --format '{{.Names}}' | grep -E "^$PREFIX-pg[0-9]+\$" || true); do
    if [ "$(state_of "$node")" != absent ]; then
      podman rm -f -t 5 "$node" >/dev/null
      log "$node: removed"
    fi
  done
  if podman network exists "$NETWORK"; then podman network rm "$NETWORK" >/dev/null; fi
  rm -rf "$STATE"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  containers) containers ;;
  *) echo "usage: $0 up|down|containers" >&2; exit 2 ;;
esac
