"""Modules imported on first use: the use cases behind the TUI's actions load SQLAlchemy (~0.5 s),
which the first screen does not need (`atlas.core.actions.browsing`)."""

import importlib
from typing import Any


class LazyModule:
    """Stands for module `name`; the first attribute read imports it (the import system's lock
    makes that safe from worker threads too)."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        return getattr(importlib.import_module(self._name), attr)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"


def lazy(name: str) -> Any:
    """Module `name`, imported when first used (typed Any: mypy sees no more than at a plain import)."""
    return LazyModule(name)


def lazy_attribute(module: str, name: str) -> Any:
    """A stand-in for `from module import name` of a function or a class that is only called
    (never given to isinstance): calling it imports `module` then."""

    def call(*args, **kwargs):
        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    return call
