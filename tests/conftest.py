"""Test configuration. Shared helpers live in the ``fixtures`` package beside this file
(``from fixtures.worlds import tiny_world``); test modules never import each other."""

from __future__ import annotations

import sys
from pathlib import Path

# The fixtures package sits beside this file; test modules in subfolders import it.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from fixtures.shared import SHARED_DATA, shared_file

__all__ = ["SHARED_DATA", "shared_file"]
