"""Values read from files (traces, histories, ``--initial``): strict JSON, and the limits every such value keeps.

Python's ``json`` accepts ``NaN`` and ``Infinity`` (not JSON), turns ``1e400`` into an infinity, raises
``RecursionError`` on deep nesting and ``ValueError`` on a number of more than 4,300 digits. A NaN read from a
history never equals itself, so a checker would call a correct history not linearizable; an infinite time orders
nothing; a value nested a thousand deep overflows every recursive function that later looks at it. So a value
read from outside is plain JSON: finite numbers, nested at most :data:`MAX_DEPTH` deep. Callers turn
:class:`BadJSON` and the problems :func:`value_problem` names into their own error, naming the file and the field.
"""

from __future__ import annotations

import json
import math
from typing import Any

MAX_DEPTH = 100  # lists and objects inside each other; faultlab's own traces nest about 8 deep
_PLAIN = frozenset({type(None), bool, int, str})  # values that are plain JSON whatever they hold


class BadJSON(ValueError):
    """Text that is not strict JSON; ``line`` and ``column`` are 1-based, or 0 when not known."""

    def __init__(self, what: str, line: int = 0, column: int = 0):
        super().__init__(what)
        self.what, self.line, self.column = what, line, column

    @property
    def where(self) -> str:
        return f"line {self.line}, column {self.column}: " if self.line else ""


def _constant(name: str) -> Any:
    raise BadJSON(f"{name} is not JSON (a number must be finite)")


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise BadJSON(f"the number {text[:40]} is too large to be a finite float")
    return value


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:  # more digits than Python converts (sys.get_int_max_str_digits)
        raise BadJSON(f"a number with {len(text)} digits is too long") from None


def loads(text: str, *, check: bool = True) -> Any:
    """Parse strict JSON: :class:`BadJSON` for malformed text, NaN or Infinity, huge numbers, or deep nesting.
    ``check=False`` leaves out the walk over the whole value (:func:`value_problem`) for a caller that checks each
    part it uses itself: NaN, infinities and huge numbers are still refused while parsing."""
    try:
        value = json.loads(text, parse_constant=_constant, parse_float=_float, parse_int=_int)
    except json.JSONDecodeError as e:
        raise BadJSON(e.msg, e.lineno, e.colno) from None
    except RecursionError:
        raise BadJSON(f"lists or objects are nested more than {MAX_DEPTH} deep") from None
    problem = value_problem(value) if check else None
    if problem:
        raise BadJSON(problem)
    return value


def value_problem(value: Any, max_depth: int = MAX_DEPTH) -> str | None:
    """What makes ``value`` not a plain JSON value a history or trace may hold, or None if nothing does.

    Iterative, so that a value nested far too deep is reported instead of overflowing the stack. The shapes a
    history holds on nearly every line (a scalar, ``[key, value]`` of scalars) are judged without the walk.
    """
    t = type(value)
    if t in _PLAIN:
        return None
    if t is float:
        return None if math.isfinite(value) else f"{value} is not a finite number"
    if t is list and len(value) <= 4 and all(type(x) in _PLAIN for x in value):
        return None
    stack = [(value, 1)]
    while stack:
        v, depth = stack.pop()
        if v is None or isinstance(v, bool | int | str):
            continue
        if isinstance(v, float):
            if not math.isfinite(v):
                return f"{v} is not a finite number"
            continue
        if isinstance(v, list | tuple | dict):
            if depth > max_depth:
                return f"lists or objects are nested more than {max_depth} deep"
            children = v.values() if isinstance(v, dict) else v
            if isinstance(v, dict) and not all(isinstance(k, str) for k in v):
                return "an object has a key that is not a string"
            stack.extend((c, depth + 1) for c in children)
            continue
        return f"a {type(v).__name__} is not a JSON value"
    return None


def short(value: Any, limit: int = 60) -> str:
    """``value`` as JSON, cut to ``limit`` characters: for an error message that shows what was found."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        text = type(value).__name__
    return text if len(text) <= limit else text[:limit - 3] + "..."
