"""Name -> factory registries for datasets, models, losses and metrics.

    @MODELS.register("dcgan")
    def build_dcgan(cfg, data): ...

An unknown name is a ``ConfigError`` that lists the valid names.
"""
from __future__ import annotations

from typing import Callable, Dict, TypeVar

from .errors import ConfigError

F = TypeVar("F", bound=Callable)


class Registry:
    def __init__(self, kind: str, flag: str):
        self.kind = kind  # "model", "dataset", ...
        self.flag = flag  # the CLI flag that chooses it, for error messages
        self._items: Dict[str, Callable] = {}

    def register(self, name: str) -> Callable[[F], F]:
        def deco(fn: F) -> F:
            if name in self._items:
                raise ValueError(f"{self.kind} {name!r} registered twice")
            self._items[name] = fn
            return fn

        return deco

    def get(self, name: str) -> Callable:
        _load_builtins()
        try:
            return self._items[name]
        except KeyError:
            raise ConfigError(
                f"{self.flag}: unknown {self.kind} {name!r}; valid: {', '.join(self.names())}"
            ) from None

    def names(self) -> list[str]:
        _load_builtins()
        return sorted(self._items)

    def __contains__(self, name: str) -> bool:
        _load_builtins()
        return name in self._items


MODELS = Registry("model", "--model")
DATASETS = Registry("dataset", "--data")
LOSSES = Registry("loss", "--loss")

_loaded = False


def _load_builtins() -> None:
    """Import the modules whose decorators fill the registries (once, lazily)."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    from . import data, losses, models  # noqa: F401
