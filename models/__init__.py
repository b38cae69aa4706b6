"""Sequential specifications (and, elsewhere in this package, z3 encodings) of the services faultlab checks.

:data:`MODELS` names every built-in model; :func:`get_model` looks one up by the name a user typed. A model is a
:class:`Model`: see :mod:`models.sequential` for the contract and how to write a new one in a few lines.
"""

from __future__ import annotations

from faultlab.errors import ConfigError
from models.registers import (
    cas_register,
    knossos_cas_register,
    knossos_register,
    multi_register,
    mutex,
    register,
)
from models.sequential import FAILED, UNKNOWN, Model, freeze
from models.structures import kv, log, queue, set_model

MODELS: dict[str, Model] = {m.name: m for m in (register, cas_register, knossos_register, knossos_cas_register, kv,
                                                   mutex, multi_register, queue, set_model, log)}


def get_model(name: str) -> Model:
    """The built-in model called ``name``; an unknown name raises :class:`ConfigError` listing the valid ones."""
    try:
        return MODELS[name]
    except KeyError:
        raise ConfigError(f"unknown model {name!r}; choose one of: {', '.join(sorted(MODELS))}") from None


__all__ = ["FAILED", "MODELS", "UNKNOWN", "Model", "freeze", "get_model"]
