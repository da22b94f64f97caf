"""Model families. Each file builds one family's networks and registers it by name.

A family is registered with ``register_family``; what it contributes to the one engine:
- ``build(cfg, data) -> nn.ModuleDict`` with its networks ("G"/"D", or "E"/"Dec", ...);
- ``step``: the name of its step function in ``gankit.training.steps``;
- ``defaults``: config values its paper or seed uses, applied under the user's own settings.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ..registry import MODELS


@dataclass(frozen=True)
class Family:
    name: str
    build: Callable  # (cfg, data: Dataset) -> nn.ModuleDict
    step: str  # "gan", "ae", "vae", ... (a key of gankit.training.steps.STEPS)
    conditional: bool = False  # G takes class labels
    defaults: dict = field(default_factory=dict)
    # optimiser name -> the networks it updates; "D" uses lr_d, every other one lr_g
    optimizers: dict = field(default_factory=lambda: {"G": ("G",), "D": ("D",)})
    # (nets, z, y) -> samples in data space, in [-1, 1] for images; None: nets["G"](z, y)
    generate: Callable | None = None


def register_family(name: str, step: str = "gan", conditional: bool = False, defaults: dict | None = None,
                    optimizers: dict | None = None, generate: Callable | None = None):
    def deco(build: Callable) -> Callable:
        opts = optimizers or {"G": ("G",), "D": ("D",)}
        MODELS.register(name)(Family(name, build, step, conditional, dict(defaults or {}), opts, generate))
        return build

    return deco


from . import dcgan, mlp  # noqa: E402,F401
