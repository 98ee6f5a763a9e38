"""Make ``ansible_collections.pgrepl.streaming`` importable from this checkout."""

import sys
from pathlib import Path

_COLLECTIONS = Path(__file__).resolve().parents[1] / "collections"
if str(_COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(_COLLECTIONS))
