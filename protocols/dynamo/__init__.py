"""Dynamo (seed section 1), one package: see :mod:`protocols.dynamo.node`."""

from protocols.dynamo.node import SPEC

__all__ = ["SPEC"]
