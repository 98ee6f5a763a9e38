# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pgrepl.streaming maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function


class ModuleDocFragment(object):
    # Connection options shared by every module (plugins/module_utils/connection.py).
    DOCUMENTATION = r"""
options:
  login_user:
    description:
      - The role to connect as.
    type: str
    default: postgres
    aliases: [login]
  login_password:
    description:
      - The password of O(login_user). Never logged.
      - Leave empty to use peer authentication over the local socket, or a C(.pgpass) file.
    type: str
    default: ''
  login_host:
    description:
      - Host name or address of the server.
      - Empty means the local Unix socket (see O(login_unix_socket)).
    type: str
    default: ''
    aliases: [host]
  login_unix_socket:
    description:
      - Directory of the server's Unix socket. Takes precedence over O(login_host).
    type: str
    default: ''
    aliases: [unix_socket]
  login_port:
    description:
      - Server port.
    type: int
    default: 5432
    aliases: [port]
  login_db:
    description:
      - Database to connect to. For a logical slot this is the database the slot belongs to.
    type: str
    default: postgres
    aliases: [db]
  ssl_mode:
    description:
      - libpq C(sslmode) of the connection.
    type: str
    default: prefer
    choices: [allow, disable, prefer, require, verify-ca, verify-full]
  ca_cert:
    description:
      - File with the certificate authorities that sign the server certificate.
      - libpq C(sslrootcert).
    type: str
    aliases: [ssl_rootcert]
  ssl_cert:
    description:
      - Client certificate file (libpq C(sslcert)).
    type: path
  ssl_key:
    description:
      - Client key file (libpq C(sslkey)).
    type: path
  connect_timeout:
    description:
      - Seconds to wait for the connection before failing with a clear message.
    type: int
    default: 10
  connect_params:
    description:
      - Further libpq connection keywords, passed as they are (they win over the options above).
    type: dict
    default: {}
  session_role:
    description:
      - Role to switch to (C(SET ROLE)) after connecting; the login role must be a member of it.
    type: str
requirements:
  - psycopg2 (python3-psycopg2 or psycopg2-binary) on the managed host
  - PostgreSQL 13 or later
"""
