"""Read histories that other tools recorded into a :class:`faultlab.history.History`.

One module per format; :data:`FORMATS` names them. :func:`load_history` guesses the format from the file's first
characters when it is not given. Every importer raises :class:`faultlab.errors.HistoryFormatError` naming the file,
the line and what was expected; an empty file is an empty history.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from pathlib import Path

from faultlab.errors import ConfigError, HistoryFormatError
from faultlab.history import History
from faultlab.importers import faultlab_json, jepsen_edn, porcupine_etcd, porcupine_kv

FORMATS: dict[str, Callable[[str, str], History]] = {
    "jepsen-edn": jepsen_edn.parse,
    "porcupine-etcd": porcupine_etcd.parse,
    "porcupine-kv": porcupine_kv.parse,
    "faultlab-json": faultlab_json.parse,
}


def load_history(path: str | Path, format: str | None = None) -> History:
    """Read the history in ``path``; ``format`` is a key of :data:`FORMATS`, or None to guess it from the content."""
    path = Path(path)
    if format is not None and format not in FORMATS:
        raise ConfigError(f"unknown history format {format!r}; choose one of: {', '.join(FORMATS)}")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise HistoryFormatError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise HistoryFormatError(f"{path}: cannot read it as UTF-8 text: {e}") from None
    if not text.strip():
        return History()
    parse = FORMATS[format or guess_format(text, str(path))]
    # A history is millions of small objects and no cycles: the cyclic collector would walk all of them again and
    # again as they pile up (a quarter of the time at 30k operations, more as the file grows). Off while reading.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return parse(text, str(path))
    finally:
        if collecting:
            gc.enable()


def guess_format(text: str, source: str = "history") -> str:
    """The name of the format ``text`` looks like, from its first characters."""
    head = _skip_comments(text)
    first_line = head.split("\n", 1)[0]
    if "jepsen.util" in first_line and first_line.startswith("INFO"):
        return "porcupine-etcd"
    inner = head[1:].lstrip() if head[:1] in "[{(" else ""
    if head[:1] in "[(" and inner[:1] == "{":
        inner = inner[1:].lstrip()
    if inner[:1] == '"' or head.startswith("[]") or (head[:1] == "[" and inner[:1] == "]"):
        return "faultlab-json"
    if inner[:1] == ":":
        return "porcupine-kv" if ":key " in first_line and head[:1] == "{" else "jepsen-edn"
    raise HistoryFormatError(
        f"{source}: line 1: cannot tell the format from {first_line[:60]!r}; expected a Jepsen EDN map "
        f"({{:type :invoke, ...}}), a porcupine etcd log (INFO jepsen.util - ...) or a JSON list of events; "
        f"name it with --format ({', '.join(FORMATS)})")


def _skip_comments(text: str) -> str:
    """``text`` from its first form: leading whitespace and EDN ``;`` comment lines left out (Jepsen writes a
    comment header on some histories)."""
    head = text.lstrip()
    while head.startswith(";"):
        head = head.split("\n", 1)[1].lstrip() if "\n" in head else ""
    return head


__all__ = ["FORMATS", "guess_format", "load_history"]
