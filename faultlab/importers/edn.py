"""EDN reading shared by the Jepsen and porcupine-kv importers, using the ``edn_format`` library.

A file of one map per line is read by shape: each line's string and integer literals are cut out, leaving its shape
(``{:process _, :type :invoke, :f :append, :key _, :value _}``); ``edn_format`` parses every distinct shape once and
every distinct escaped string literal once, in two batched calls (an integer or a string without escapes reads as
itself), and each line is rebuilt from its shape and its literals by a builder compiled once per shape. A
porcupine kv file has a dozen shapes, so this reads it about five times faster than parsing every map. It gives the
same values as parsing each map, because an EDN map's value is made of its elements' values and a string or
integer literal reads the same on its own. Any line the cutting cannot vouch for (a character literal, a comment,
a tag, a discard, a map that spans lines) sends the whole file to the plain path: one ``edn_format`` call over all
of it (parsing line by line is five times slower), each map then given the line it came from. Only when the file
does not parse is it read again line by line, to name the line.
"""

from __future__ import annotations

import array
import datetime
import io
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import edn_format

from faultlab.errors import HistoryFormatError
from faultlab.importers.json_values import MAX_DEPTH


def plain(value: Any) -> Any:
    """An EDN value as a JSON value: keywords and symbols become their names, vectors lists, maps dicts."""
    if isinstance(value, edn_format.Keyword | edn_format.Symbol):
        return value.name
    if isinstance(value, Mapping):
        return {_key(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | edn_format.ImmutableList):
        return [plain(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted((plain(v) for v in value), key=repr)
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _key(k: Any) -> str:
    k = plain(k)
    return k if isinstance(k, str) else str(k)


# A string literal (escapes included) or a whole integer token: the parts of a line cut out of its shape.
_LITERAL = re.compile(r'"(?:[^"\\]|\\.)*"|(?<![\w.+\-*!?$%&=<>:#/\'])[-+]?\d+(?![\w.#/:])')
# What a shape may still contain for the cutting to be trusted: no quote, backslash, comment, tag or discard.
_SHAPE_CHARS = re.compile(r"[{}\[\]() \t,:\w\-.+*!?$%&=<>/]*")
_HOLE = "faultlab-edn-hole-"  # a symbol name that stands for a cut-out literal; a file containing it takes the plain path
_HOLES = tuple(f" {_HOLE}{i} " for i in range(256))  # a line with more literals than this takes the plain path


def read_maps(text: str, source: str) -> Iterable[tuple[int, dict]]:
    """The maps in ``text`` (one per line, or one vector of them), each with its 1-based line number."""
    try:
        return _read_maps(text, source)
    except RecursionError:  # the parser and plain() recurse once per level of nesting
        raise HistoryFormatError(f"{source}: line {_too_deep_line(text)}: vectors, lists or maps are nested more "
                                 f"than {MAX_DEPTH} deep, deeper than any history's values need to be") from None


def _too_deep_line(text: str) -> int:
    """The first line where brackets are open more than ``MAX_DEPTH`` deep (strings skipped), else 1."""
    depth, in_string, escaped = 0, False, False
    for number, line in enumerate(text.splitlines(), start=1):
        for ch in line:
            if in_string:
                if escaped:
                    escaped = False
                elif ch == "\\":
                    escaped = True
                elif ch == '"':
                    in_string = False
                continue
            if ch == '"':
                in_string = True
            elif ch in "[{(":
                depth += 1
                if depth > MAX_DEPTH:
                    return number
            elif ch in "]})":
                depth -= 1
    return 1


def _read_maps(text: str, source: str) -> Iterable[tuple[int, dict]]:
    by_shape = _read_maps_by_shape(text)
    if by_shape is not None:
        return by_shape
    stripped = text.strip()
    try:
        items = edn_format.loads(f"[{stripped}]")
    except Exception as e:  # edn_format raises EDNDecodeError, but also NotImplementedError for unknown tags
        _raise_at_line(text, source, e)
    if len(items) == 1 and isinstance(items[0], list | tuple | edn_format.ImmutableList) and \
            not isinstance(items[0], Mapping):
        items = list(items[0])  # one vector or list of maps, as Jepsen writes a whole history (comments allowed)
    lines = [n for n, line in enumerate(text.splitlines(), start=1) if line.lstrip(" \t[(").startswith("{")]
    if len(lines) != len(items):
        lines = [0] * len(items)
    maps = []
    for line, item in zip(lines, items, strict=True):
        if not isinstance(item, Mapping):
            where = f"line {line}" if line else f"item {len(maps) + 1}"
            raise HistoryFormatError(f"{source}: {where}: expected a map {{:type ..., :f ..., :process ...}}, "
                                     f"got {edn_format.dumps(item)[:60]!r}")
        maps.append((line, plain(item)))
    return maps


def _read_maps_by_shape(text: str) -> Iterator[tuple[int, dict]] | None:
    """One map per line, read shape by shape (see the module docstring); None when the file is not that simple.

    Two passes over the lines: the first finds every distinct shape and escaped string (and whether the file is
    that simple at all), the second builds each map as it is asked for. Nothing per line is kept between them, so
    reading a history costs the history's own memory, not a copy of every line as well."""
    if _HOLE in text:
        return None
    shapes: dict[str, int] = {}
    escaped: dict[str, int] = {}
    shape_ids = array.array("i")  # per line, its shape (-1: blank): 4 bytes a line, all the second pass needs
    for line in io.StringIO(text):  # line by line, never a list of every line
        shape, cut = _shape_of(line)
        if shape is None:
            if cut is None:
                return None
            shape_ids.append(-1)  # a blank line
            continue
        shape_ids.append(shapes.setdefault(shape, len(shapes)))
        for literal in cut:
            if literal[0] == '"' and "\\" in literal:
                escaped.setdefault(literal, len(escaped))
    if not shapes:
        return None
    try:
        parsed_shapes = edn_format.loads("[" + "\n".join(shapes) + "]")
        parsed_escaped = edn_format.loads("[" + "\n".join(escaped) + "]") if escaped else []
    except Exception:  # let the plain path parse it and name the line
        return None
    if len(parsed_shapes) != len(shapes) or len(parsed_escaped) != len(escaped):
        return None
    escaped_values = {lit: plain(v) for lit, v in zip(escaped, parsed_escaped, strict=True)}
    fillers = []
    for parsed in parsed_shapes:
        if not isinstance(parsed, Mapping):
            return None
        filler = _compile(plain(parsed))
        if filler is None:
            return None
        fillers.append(filler)
    return _build_maps(text, shape_ids, fillers, escaped_values)


def _shape_of(line: str) -> tuple[str | None, list[str] | None]:
    """A line's shape and its literals; (None, []) for a blank line, (None, None) for one the cutting cannot vouch
    for."""
    line = line.strip()
    if not line:
        return None, []
    if line[0] != "{" or line[-1] != "}":
        return None, None
    cut = _LITERAL.findall(line)  # the literals, and the text between them: two passes in C, no callback
    if len(cut) > len(_HOLES):
        return None, None
    pieces = _LITERAL.split(line)
    shape = pieces[0] + "".join([h + p for h, p in zip(_HOLES, pieces[1:], strict=False)]) if cut else line
    if not _SHAPE_CHARS.fullmatch(shape):
        return None, None
    return shape, cut


def _build_maps(text: str, shape_ids: array.array, fillers: list, escaped: dict[str, Any]) -> Iterator[tuple[int, dict]]:
    for number, (line, shape) in enumerate(zip(io.StringIO(text), shape_ids, strict=True), start=1):
        if shape < 0:
            continue
        # An integer, or a string without escapes, reads as itself; edn_format read the escaped strings.
        values = [int(c) if c[0] != '"' else c[1:-1] if "\\" not in c else escaped[c]
                  for c in _LITERAL.findall(line)]
        yield number, fillers[shape](values)


def _compile(template: Any) -> Callable[[list], Any] | None:
    """A function that builds ``template`` with each hole symbol replaced by its value (from the list of a line's
    literals); None if a hole is where no value can be (a map key: plain() made it a string key; the plain path
    reads such a file). Compiled once per shape, so each line costs a call per map or vector it holds."""
    if isinstance(template, str):
        if template.startswith(_HOLE):
            i = int(template[len(_HOLE):])
            return lambda values: values[i]
        return lambda values: template
    if isinstance(template, dict):
        if any(k.startswith(_HOLE) for k in template):
            return None
        consts, holes, nested = {}, [], []
        for k, v in template.items():
            if isinstance(v, str) and v.startswith(_HOLE):
                holes.append((k, int(v[len(_HOLE):])))
            elif isinstance(v, dict | list):
                inner = _compile(v)
                if inner is None:
                    return None
                nested.append((k, inner))
            else:
                consts[k] = v
        order = list(template)

        def build(values: list) -> dict:
            filled = dict(consts)
            for k, i in holes:
                filled[k] = values[i]
            for k, inner in nested:
                filled[k] = inner(values)
            return {k: filled[k] for k in order} if nested or holes else filled

        return build
    if isinstance(template, list):
        parts = [_compile(v) for v in template]
        if any(p is None for p in parts):
            return None
        return lambda values: [p(values) for p in parts]
    return lambda values: template


def _raise_at_line(text: str, source: str, error: Exception) -> None:
    if isinstance(error, RecursionError):
        raise error  # read_maps names the line nested too deep
    for number, line in enumerate(text.splitlines(), start=1):
        body = line.strip().lstrip("[").rstrip("]").strip()
        if not body:
            continue
        try:
            edn_format.loads(f"[{body}]")
        except RecursionError:
            raise
        except Exception as e:
            raise HistoryFormatError(f"{source}: line {number}: not valid EDN ({e}); expected one map per line "
                                     f"such as {{:type :invoke, :f :read, :value nil, :process 0}}, got "
                                     f"{line.strip()[:80]!r}") from None
    raise HistoryFormatError(f"{source}: not valid EDN ({error}); expected maps such as "
                             f"{{:type :invoke, :f :read, :value nil, :process 0}}, one per line or in a vector")
