"""Old module paths whose private state stays the state of the modules that replaced them.

A shim that only star-imports its new module holds *copies* of the names: setting
``hexaccess._backend._rust_core`` (as tests do to simulate a missing extension) would
then change the copy and not the module that reads it. :func:`forward_to` turns the
named attributes of the shim into properties that read and write the new module.
Properties (data descriptors) rather than ``__getattr__``/``__setattr__`` hooks, so that
``pytest``'s ``monkeypatch`` restores the real value on undo instead of deleting it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from types import ModuleType


def _forwarded(target: ModuleType, name: str) -> property:
    def read(_shim: ModuleType) -> object:
        return getattr(target, name)

    def write(_shim: ModuleType, value: object) -> None:
        setattr(target, name, value)

    return property(read, write, doc=f"``{target.__name__}.{name}``")


def forward_to(shim_name: str, target: ModuleType, names: Iterable[str]) -> None:
    """Make ``names`` of module ``shim_name`` read and write those of ``target``."""
    shim = sys.modules[shim_name]
    namespace = {name: _forwarded(target, name) for name in names}
    for name in namespace:
        shim.__dict__.pop(name, None)  # the property, not a stale copy, must answer
    shim.__class__ = type(f"ShimOf_{target.__name__.replace('.', '_')}", (ModuleType,), namespace)
