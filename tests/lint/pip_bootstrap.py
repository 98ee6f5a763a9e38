"""Offline stand-in for the get-pip.py script that ansible-test downloads.

ansible-test creates each sanity virtualenv without pip, then runs its cached
``~/.ansible/test/cache/get_pip_<version>.py`` inside it as
``python get_pip.py --disable-pip-version-check pip==<version> --no-setuptools --no-wheel``.
That script is normally fetched from a host this machine cannot reach, so
tests/lint/test_static.py installs this file under that name instead. It gets
a first pip from the interpreter's own ``ensurepip`` (no network) and then lets
that pip install the requested packages from the configured package index.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys

# get-pip.py options that are not pip options: they opt out of extra packages.
OPT_OUTS = {"--no-setuptools": "setuptools", "--no-wheel": "wheel"}


def split_args(argv: list[str]) -> tuple[list[str], list[str]]:
    """Return (pip install arguments, extra packages get-pip would add by default)."""
    pip_args = [arg for arg in argv if arg not in OPT_OUTS]
    extras = [pkg for opt, pkg in OPT_OUTS.items() if opt not in argv]
    return pip_args, extras


def pip(*args: str) -> None:
    subprocess.check_call([sys.executable, "-m", "pip", *args])


def main() -> None:
    pip_args, extras = split_args(sys.argv[1:])
    # ensurepip also brings setuptools on Python < 3.12; remove it again when the
    # caller asked for none, so the environment holds only what was requested.
    had_setuptools = importlib.util.find_spec("setuptools") is not None
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"])
    pip("install", *pip_args, *extras)
    if "setuptools" not in extras and not had_setuptools:
        pip("uninstall", "--yes", "--quiet", "setuptools")


if __name__ == "__main__":
    main()
