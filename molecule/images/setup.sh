#!/bin/sh
# Runs inside the image build (see Containerfile): apt sources, systemd + Ansible's needs,
# an SSH server and sudo (the default scenario logs in over SSH as a user would),
# PostgreSQL packages pre-downloaded so the roles install them fast and offline.
set -eu

{
  printf 'Types: deb\nURIs: %s\nSuites: %s %s-updates\nComponents: main\n' \
    "$MIRROR" "$SUITE" "$SUITE"
  printf 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n'
  if [ -n "$SECURITY_MIRROR" ]; then
    printf '\nTypes: deb\nURIs: %s\nSuites: %s-security\nComponents: main\n' \
      "$SECURITY_MIRROR" "$SUITE"
    printf 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n'
  fi
} >/etc/apt/sources.list.d/debian.sources
rm -f /etc/apt/sources.list

# Test hosts only: dpkg without fsync and without docs/man pages installs packages
# (the roles' PostgreSQL install among them) several times faster in a container.
printf 'force-unsafe-io\n' >/etc/dpkg/dpkg.cfg.d/unsafe-io
printf 'path-exclude=%s\n' '/usr/share/doc/*' '/usr/share/man/*' '/usr/share/info/*' \
  >/etc/dpkg/dpkg.cfg.d/excludes

apt-get update -qq
# Same package versions as the mirror, so the roles' install does not upgrade base packages.
apt-get dist-upgrade -y -qq >/dev/null
apt-get install -y -qq --no-install-recommends \
  systemd systemd-sysv dbus python3 python3-apt sudo iproute2 iputils-ping procps \
  ca-certificates locales openssh-server >/dev/null
# What the roles install (with recommends, the apt module's default): fetch only.
apt-get install -y -qq --download-only \
  postgresql postgresql-client python3-psycopg2 acl >/dev/null

# A UTF-8 locale so initdb creates UTF8 databases.
sed -i 's/^# *\(en_US.UTF-8 UTF-8\)/\1/' /etc/locale.gen
locale-gen >/dev/null
printf 'LANG=en_US.UTF-8\n' >/etc/default/locale

# No host keys in the image: every container makes its own when sshd first starts (the
# package's unit checks the configuration before starting; make the keys just before that).
rm -f /etc/ssh/ssh_host_*
mkdir -p /etc/systemd/system/ssh.service.d
printf '[Service]\nExecStartPre=\nExecStartPre=/usr/bin/ssh-keygen -A\nExecStartPre=/usr/sbin/sshd -t\n' \
  >/etc/systemd/system/ssh.service.d/host-keys.conf
systemctl enable ssh.service >/dev/null 2>&1

# Units that only slow a container's boot or fail in it.
systemctl mask getty.target console-getty.service systemd-logind.service \
  systemd-udevd.service systemd-udev-trigger.service systemd-modules-load.service \
  sys-kernel-config.mount sys-kernel-debug.mount sys-kernel-tracing.mount \
  systemd-remount-fs.service apt-daily.timer apt-daily-upgrade.timer >/dev/null 2>&1 || true

# Keep the package lists (offline installs work) but date them in 1970, so a role's
# `apt: update_cache: true, cache_valid_time: N` still refreshes them.
rm -f /var/lib/apt/periodic/update-success-stamp
touch -d @0 /var/lib/apt/lists
