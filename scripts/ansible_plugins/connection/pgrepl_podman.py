# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab's transport: containers.podman.podman with pipelining.

The stock plugin runs `podman exec` without `-i`, so stdin never reaches the container
and it cannot pipeline: every module then costs a mount, a copy, a chmod, the run and a
cleanup, 4 to 5 podman processes. Here a module is one `podman exec -i` (as over SSH
with `pipelining = True`), and files travel through stdin, so nothing is mounted. Used by
the lab and the tests only; it is not part of the collection.
"""

from __future__ import annotations

import shlex

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_bytes, to_native
from ansible.plugins.connection import ConnectionBase, ensure_connect

from ansible_collections.containers.podman.plugins.connection import podman

DOCUMENTATION = podman.DOCUMENTATION.replace("name: podman", "name: pgrepl_podman", 1).replace(
    "short_description: Interact with an existing podman container",
    "short_description: podman exec with pipelining (pgrepl lab and tests)", 1)

_WRITE = "cat > {path}"


class Connection(podman.Connection):
    transport = "pgrepl_podman"
    has_pipelining = True
    # Pipelined whatever the config says: the point of this transport.
    always_pipeline_modules = True

    def _connect(self):
        # No `podman mount`: files go through `podman exec -i`.
        ConnectionBase._connect(self)
        self._connected = True

    def _exec(self, argv: list[str], in_data: bytes | None = None):
        args = ["exec", "-i"] if in_data is not None else ["exec"]
        if self.user:
            args.extend(("--user", self.user))
        return self._podman(args, argv, in_data)

    @ensure_connect
    def exec_command(self, cmd, in_data=None, sudoable=False):
        ConnectionBase.exec_command(self, cmd, in_data=in_data, sudoable=sudoable)
        return self._exec(shlex.split(to_native(cmd, errors="surrogate_or_strict")), in_data)

    @ensure_connect
    def put_file(self, in_path, out_path):
        ConnectionBase.put_file(self, in_path, out_path)
        with open(to_bytes(in_path, errors="surrogate_or_strict"), "rb") as source:
            data = source.read()
        rc, _out, err = self._exec(
            ["/bin/sh", "-c", _WRITE.format(path=shlex.quote(to_native(out_path)))], data)
        if rc != 0:
            raise AnsibleError("failed to put %s to %s in container %s: %s"
                               % (in_path, out_path, self._container_id, to_native(err)))

    @ensure_connect
    def fetch_file(self, in_path, out_path):
        ConnectionBase.fetch_file(self, in_path, out_path)
        rc, out, err = self._exec(["cat", to_native(in_path)])
        if rc != 0:
            raise AnsibleError("failed to fetch %s from container %s: %s"
                               % (in_path, self._container_id, to_native(err)))
        with open(to_bytes(out_path, errors="surrogate_or_strict"), "wb") as target:
            target.write(out)
