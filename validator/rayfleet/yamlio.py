"""Safe YAML loading for every file a user hands us.

Two loaders, one job each:
- ``load_document`` (ruamel.yaml's reading, YAML 1.2) for files people write (fleet file, values
  files): keeps the line of every key so findings can point at it. Plain documents are parsed by
  libyaml with ruamel's resolver and constructors (the same result, ten times faster).
- ``load_manifests`` (PyYAML with libyaml when present) for rendered or scanned manifests: fast,
  keeps the line each document starts on.
Both reject duplicate keys, alias bombs, recursive anchors, deep nesting, scalars their tag cannot
hold (``!!int 0x``, ``!!bool maybe``, a 5000-digit integer) and oversized input with an
``InputError`` naming the file and line. The node graph is checked after composing and before
constructing (``check_node_graph``), so nothing is expanded or built from a hostile document.
"""

from __future__ import annotations

import hashlib
import marshal
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml as pyyaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.composer import Composer, MaxDepthExceededError
from ruamel.yaml.constructor import ConstructorError as RuamelConstructorError
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, StreamMark, YAMLError
from ruamel.yaml.nodes import ScalarNode as RuamelScalarNode
from ruamel.yaml.resolver import VersionedResolver

from .errors import InputError
from .text import one_line

# Values and fleet files are hand-written: a few KiB. Anything near these limits is a mistake or
# an attack, and is refused before parsing.
MAX_DOCUMENT_BYTES = 2 * 1024 * 1024
MAX_MANIFEST_FILE_BYTES = 64 * 1024 * 1024
# Expanded size of a document counted in nodes (aliases counted every time they are used).
MAX_EXPANDED_NODES = 2_000_000
# Nodes that aliases may add to a hand-written document (its loader copies them, so a bomb would
# cost memory); a document without aliases is never refused by this.
MAX_ALIAS_NODES = 100_000
# Nesting levels. The deepest upstream CRD (KubeRay's RayService) is 36; everything downstream
# (policies, JSON Schema, Helm) stays far from Python's recursion limit below 100.
MAX_DEPTH = 100
# Errors Python's own conversions raise on scalars a tag cannot hold (int("0x"), a bool table lookup,
# the 4300-digit limit on int()), and ruamel's assert on a !!omap with a repeated key.
_SCALAR_ERRORS = (ValueError, KeyError, IndexError, TypeError, OverflowError, AssertionError)

KeyPath = tuple[str | int, ...]


class _GraphError(Exception):
    """A hostile node graph, found before constructing; the loaders add the file name."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def _line_of(node: Any) -> int | None:
    mark = getattr(node, "start_mark", None)
    return mark.line + 1 if mark is not None else None


def _children(node: Any) -> list[Any]:
    value = node.value
    if not isinstance(value, list):
        return []
    out: list[Any] = []
    for item in value:
        if isinstance(item, tuple):
            out.extend(item)
        else:
            out.append(item)
    return out


def check_node_graph(root: Any, *, max_alias_nodes: int, max_depth: int = MAX_DEPTH) -> int:
    """Refuse a composed YAML node graph (PyYAML's or ruamel's) that refers to itself, nests deeper
    than ``max_depth`` or whose aliases would add more than ``max_alias_nodes`` nodes when expanded.

    Iterative and memoised per node: a billion-laughs document costs its distinct nodes, not its
    expansion, and no depth can exhaust Python's stack here. Returns the nodes aliases add (0: a
    plain tree, no node shared).
    """
    done: dict[int, tuple[int, int]] = {}  # id(node) -> (expanded size, height)
    on_path: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            kids = _children(node)
            size = 1 + sum(done[id(k)][0] for k in kids)
            height = 1 + max((done[id(k)][1] for k in kids), default=0)
            if height > max_depth:
                raise _GraphError(f"YAML nests deeper than {max_depth} levels", _line_of(node))
            on_path.discard(key)
            done[key] = (size, height)
            continue
        if key in done:
            continue
        on_path.add(key)
        stack.append((node, True))
        for child in _children(node):
            if id(child) in on_path:
                raise _GraphError("a YAML alias refers to a node that contains it (recursive anchor)",
                                  _line_of(child))
            if id(child) not in done:
                stack.append((child, False))
        if len(on_path) > max_depth:
            raise _GraphError(f"YAML nests deeper than {max_depth} levels", _line_of(node))
    extra = done[id(root)][0] - len(done)
    if extra > max_alias_nodes:
        raise _GraphError(f"YAML aliases expand to more than {max_alias_nodes} extra nodes (alias bomb?)",
                          _line_of(root))
    return extra


def _scalar_problem(node: Any, exc: Exception) -> str:
    tag = str(getattr(node, "tag", "") or "").replace("tag:yaml.org,2002:", "!!") or "node"
    if not isinstance(node.value, str):
        return f"cannot read this {tag}: {one_line(exc, 120)}"
    value = node.value
    shown = repr(value if len(value) <= 24 else value[:20] + "...")
    size = f" ({len(value)} characters)" if len(value) > 24 else ""
    return f"{shown}{size} is not a valid {tag}"


class _CheckedComposer(Composer):
    """ruamel's composer, refusing hostile node graphs before anything is constructed."""

    def compose_document(self) -> Any:
        node = super().compose_document()
        if node is not None:
            check_node_graph(node, max_alias_nodes=MAX_ALIAS_NODES)
        return node


def _refuse_deep_nesting(text: str, origin: str) -> None:
    """Deep nesting, found with libyaml's (C) event parser in milliseconds: ruamel's pure-Python
    scanner takes seconds over a thousand nested brackets before its own depth limit stops it.
    Anything else libyaml dislikes is left to ruamel to report in its words."""
    depth = 0
    try:
        for event in pyyaml.parse(text, Loader=_BaseLoader):
            if isinstance(event, pyyaml.SequenceStartEvent | pyyaml.MappingStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise InputError(f"YAML nests deeper than {MAX_DEPTH} levels", file=origin,
                                     line=event.start_mark.line + 1)
            elif isinstance(event, pyyaml.SequenceEndEvent | pyyaml.MappingEndEvent):
                depth -= 1
    except pyyaml.MarkedYAMLError as exc:
        if "nesting depth" in str(exc.problem):
            line = exc.problem_mark.line + 1 if exc.problem_mark is not None else None
            raise InputError(f"YAML nests deeper than {MAX_DEPTH} levels", file=origin, line=line) from None
    except pyyaml.YAMLError:
        pass


class _StringTimestampConstructor(RoundTripConstructor):
    """Keep dates as the strings they were written as (Helm's parser does the same); a scalar its
    tag cannot hold is a marked error (file and line), not a Python exception."""

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except _SCALAR_ERRORS as exc:
            raise RuamelConstructorError(None, None, _scalar_problem(node, exc), node.start_mark) from None


_StringTimestampConstructor.add_constructor(
    "tag:yaml.org,2002:timestamp", RoundTripConstructor.construct_yaml_str
)


@dataclass
class LoadedDocument:
    """A YAML mapping or list with the 1-based line of every key path."""

    path: str
    data: Any
    lines: dict[KeyPath, int]

    def line_of(self, key_path: KeyPath) -> int | None:
        """The line of ``key_path``, or of its nearest ancestor that has one."""
        for end in range(len(key_path), -1, -1):
            line = self.lines.get(tuple(key_path[:end]))
            if line is not None:
                return line
        return None


def read_text(path: str | Path, *, max_bytes: int = MAX_DOCUMENT_BYTES, label: str = "file") -> str:
    """Read a text file, refusing missing, unreadable, binary or oversized files."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if p.is_dir():
            raise InputError(f"is a directory, expected a {label}", file=str(path))
        if size > max_bytes:
            raise InputError(f"{label} is {size} bytes, over the {max_bytes}-byte limit", file=str(path))
        raw = p.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{label} not found", file=str(path)) from None
    except PermissionError:
        raise InputError(f"{label} is not readable (permission denied)", file=str(path)) from None
    except IsADirectoryError:
        raise InputError(f"is a directory, expected a {label}", file=str(path)) from None
    except OSError as exc:
        raise InputError(f"cannot read {label}: {exc.strerror}", file=str(path)) from None
    return decode_text(raw, str(path), max_bytes=max_bytes, label=label)


def decode_text(raw: bytes, origin: str, *, max_bytes: int = MAX_DOCUMENT_BYTES, label: str = "file") -> str:
    if len(raw) > max_bytes:
        raise InputError(f"{label} is {len(raw)} bytes, over the {max_bytes}-byte limit", file=origin)
    if b"\x00" in raw:
        raise InputError(f"{label} is binary, not YAML", file=origin)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{label} is not UTF-8 text (byte {exc.start})", file=origin) from None


def _yaml_error(exc: Exception, origin: str) -> InputError:
    if isinstance(exc, MarkedYAMLError) and exc.problem_mark is not None:
        line = exc.problem_mark.line + 1
        problem = (exc.problem or str(exc)).strip()
        return InputError(f"malformed YAML: {one_line(problem)}", file=origin, line=line)
    return InputError(f"malformed YAML: {one_line(exc)}", file=origin)


def load_document(text: str, origin: str, *, allow_empty: bool = True) -> LoadedDocument:
    """Parse one hand-written YAML document, keeping the line of each key.

    The reading is ruamel.yaml's (YAML 1.2) in every case. A plain document (no anchors, aliases,
    tags, directives, merge keys, duplicate or non-string keys) is read by libyaml's C parser
    with ruamel's own resolver and scalar constructors (``_fast_document``, tens of times faster);
    anything else, and every error, goes through ruamel itself, so the data, the lines and the
    error messages are ruamel's (tests/core/test_yaml_fast_path.py compares the two)."""
    if len(text.encode("utf-8", "ignore")) > MAX_DOCUMENT_BYTES:
        raise InputError(f"document is over the {MAX_DOCUMENT_BYTES}-byte limit", file=origin)
    fast = _fast_document(text, origin)  # refuses deep nesting, as _refuse_deep_nesting does
    if fast is not None:
        docs, lines = fast
        if _is_empty(docs, origin, allow_empty=allow_empty):
            return LoadedDocument(origin, {}, {})
        return LoadedDocument(origin, docs[0], lines)
    return _load_with_ruamel(text, origin, allow_empty=allow_empty)


def _is_empty(docs: list[Any], origin: str, *, allow_empty: bool) -> bool:
    """True for a file with no document (when allowed); several documents, or none when one is
    required, are input errors: the same for both readers."""
    if len(docs) > 1:
        raise InputError("holds several YAML documents; expected one", file=origin)
    if not docs and not allow_empty:
        raise InputError("is empty", file=origin)
    return not docs


def _load_with_ruamel(text: str, origin: str, *, allow_empty: bool) -> LoadedDocument:
    _refuse_deep_nesting(text, origin)
    loader = YAML(typ="rt")
    loader.Composer = _CheckedComposer
    loader.Constructor = _StringTimestampConstructor
    loader.allow_duplicate_keys = False
    loader.max_depth = MAX_DEPTH
    try:
        docs = list(loader.load_all(text))
    except _GraphError as exc:
        raise InputError(exc.message, file=origin, line=exc.line) from None
    except MaxDepthExceededError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark is not None else None
        raise InputError(f"YAML nests deeper than {MAX_DEPTH} levels", file=origin, line=line) from None
    except (YAMLError, *_SCALAR_ERRORS) as exc:
        raise _yaml_error(exc, origin) from None
    except RecursionError:
        raise InputError("YAML nests too deeply", file=origin) from None
    docs = [d for d in docs if d is not None]
    if _is_empty(docs, origin, allow_empty=allow_empty):
        return LoadedDocument(origin, {}, {})
    lines: dict[KeyPath, int] = {}
    data = _to_plain(docs[0], (), lines, origin)
    return LoadedDocument(origin, data, lines)


class _NotPlain(Exception):
    """The document needs ruamel itself (an anchor, a tag, a merge key, a duplicate key, an error)."""


_STR_TAG = "tag:yaml.org,2002:str"
_PLAIN_TAGS = {_STR_TAG, "tag:yaml.org,2002:null", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int",
               "tag:yaml.org,2002:float", "tag:yaml.org,2002:timestamp"}
# Characters libyaml (YAML 1.1) and ruamel (YAML 1.2) may count or read differently: NEL and the
# Unicode line and paragraph separators, a byte order mark inside the text, tabs.
_NOT_FAST = ("\x85", "\u2028", "\u2029", "\ufeff", "\t")


class _FastReader:
    """Builds the plain data and the line of every key path from libyaml's events, resolving and
    constructing scalars with ruamel's own resolver and constructor (so ``yes`` stays a string,
    ``0o17`` is 15, dates stay strings, as in the ruamel path)."""

    def __init__(self) -> None:
        loader = YAML(typ="rt")
        loader.Constructor = _StringTimestampConstructor
        self.resolver = VersionedResolver(loader=None)
        self.constructor = loader.constructor
        self.lines: dict[KeyPath, int] = {}

    def scalar(self, event: Any, is_key: bool) -> Any:
        if event.anchor is not None or event.tag is not None:
            raise _NotPlain
        tag = self.resolver.resolve(RuamelScalarNode, event.value, event.implicit)
        name = str(tag)
        if name == _STR_TAG:
            return event.value
        if is_key or name not in _PLAIN_TAGS:  # non-string keys and merge keys: ruamel's job
            raise _NotPlain
        mark = event.start_mark
        node = RuamelScalarNode(tag, event.value, StreamMark("", mark.index, mark.line, mark.column),
                                None, style=event.style)
        try:
            value = self.constructor.construct_object(node)
        except Exception:  # a scalar its tag cannot hold: ruamel reports it in its words
            raise _NotPlain from None
        return _to_plain(value, (), {}, "")


def _fast_document(text: str, origin: str) -> tuple[list[Any], dict[KeyPath, int]] | None:
    """The documents (empty ones dropped) and the lines of the first, read by libyaml; None when
    the text needs ruamel (which then checks the nesting past the point reached here). Raises
    ``InputError`` for nesting deeper than ``MAX_DEPTH``, as ``_refuse_deep_nesting`` would."""
    if any(c in text for c in _NOT_FAST):
        return None
    reader = _FastReader()
    docs: list[Any] = []
    # each open collection: [container, key path, pending key (mappings), key path of that key]
    stack: list[list[Any]] = []
    root: list[Any] = []
    depth = 0
    try:
        for event in pyyaml.parse(text, Loader=_BaseLoader):
            kind = type(event)
            if kind is pyyaml.ScalarEvent or kind is pyyaml.MappingStartEvent or kind is pyyaml.SequenceStartEvent:
                if stack and type(stack[-1][0]) is dict and stack[-1][2] is None:  # a mapping key
                    if kind is not pyyaml.ScalarEvent:
                        raise _NotPlain
                    top = stack[-1]
                    key = reader.scalar(event, True)
                    if key in top[0] or key in top[3]:
                        raise _NotPlain  # a duplicate key: ruamel's error
                    top[2] = key
                    top[3][key] = event.start_mark.line + 1
                    continue
                if stack:
                    top = stack[-1]
                    if type(top[0]) is dict:
                        path = (*top[1], top[2])
                        line = top[3][top[2]]
                    else:
                        path = (*top[1], len(top[0]))
                        line = event.start_mark.line + 1
                    reader.lines.setdefault(path, line)
                else:
                    path = ()
                if kind is pyyaml.ScalarEvent:
                    _attach(stack, root, reader.scalar(event, False))
                    continue
                if event.anchor is not None or event.tag is not None:
                    raise _NotPlain
                depth += 1
                if depth > MAX_DEPTH:
                    raise InputError(f"YAML nests deeper than {MAX_DEPTH} levels", file=origin,
                                     line=event.start_mark.line + 1)
                stack.append([{} if kind is pyyaml.MappingStartEvent else [], path, None, {}])
            elif kind is pyyaml.MappingEndEvent or kind is pyyaml.SequenceEndEvent:
                depth -= 1
                done = stack.pop()
                _attach(stack, root, done[0])
            elif kind is pyyaml.AliasEvent:
                raise _NotPlain
            elif kind is pyyaml.DocumentStartEvent:
                if event.version is not None or event.tags:
                    raise _NotPlain
            elif kind is pyyaml.DocumentEndEvent:
                docs.extend(root)
                root = []
    except _NotPlain:
        return None
    except pyyaml.MarkedYAMLError as exc:
        if "nesting depth" in str(exc.problem):
            line = exc.problem_mark.line + 1 if exc.problem_mark is not None else None
            raise InputError(f"YAML nests deeper than {MAX_DEPTH} levels", file=origin, line=line) from None
        return None
    except pyyaml.YAMLError:
        return None
    docs = [d for d in docs if d is not None]
    # ruamel keeps the lines of the first document only when there is one (more is an error)
    return docs, reader.lines if len(docs) == 1 else {}


def _attach(stack: list[list[Any]], root: list[Any], value: Any) -> None:
    if not stack:
        root.append(value)
        return
    top = stack[-1]
    if type(top[0]) is dict:
        top[0][top[2]] = value
        top[2] = None
    else:
        top[0].append(value)


def _to_plain(node: Any, path: KeyPath, lines: dict[KeyPath, int], origin: str) -> Any:
    if isinstance(node, CommentedMap):
        out: dict[str, Any] = {}
        for key, value in node.items():
            if not isinstance(key, str | int | float | bool) and key is not None:
                raise InputError(f"a mapping key is a {type(key).__name__}, not a string",
                                 file=origin, line=node.lc.line + 1)
            skey = key if isinstance(key, str) else str(key).lower() if isinstance(key, bool) else str(key)
            child = (*path, skey)
            try:
                lines.setdefault(child, node.lc.key(key)[0] + 1)
            except (KeyError, TypeError):
                lines.setdefault(child, node.lc.line + 1)
            out[skey] = _to_plain(value, child, lines, origin)
        return out
    if isinstance(node, CommentedSeq):
        items = []
        for index, value in enumerate(node):
            child = (*path, index)
            try:
                lines.setdefault(child, node.lc.item(index)[0] + 1)
            except (KeyError, TypeError, IndexError):
                lines.setdefault(child, node.lc.line + 1)
            items.append(_to_plain(value, child, lines, origin))
        return items
    if isinstance(node, dict):  # merged or tagged maps
        return {str(k): _to_plain(v, (*path, str(k)), lines, origin) for k, v in node.items()}
    if isinstance(node, list):
        return [_to_plain(v, (*path, i), lines, origin) for i, v in enumerate(node)]
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    value = getattr(node, "value", None)  # ruamel TaggedScalar
    return str(value if value is not None else node)


# --- manifests -------------------------------------------------------------------------------

_BaseLoader = getattr(pyyaml, "CSafeLoader", pyyaml.SafeLoader)


def safe_load_trusted(text: str) -> Any:
    """PyYAML's safe reading with libyaml's C loader where installed, as for rendered manifests:
    no line numbers and none of load_document's limits (for a chart's defaults, which Helm reads
    and refuses on its own, and the VM catalogue we ship)."""
    return pyyaml.load(text, Loader=_BaseLoader)


class _ManifestLoader(_BaseLoader):  # type: ignore[misc,valid-type]
    """SafeLoader that refuses duplicate keys and keeps timestamps as strings (as kubectl does)."""

    def construct_mapping(self, node: Any, deep: bool = False) -> dict:
        seen: set = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
            except TypeError:
                raise pyyaml.constructor.ConstructorError(
                    None, None, "a mapping key is not a scalar", key_node.start_mark) from None
            if duplicate:
                raise pyyaml.constructor.ConstructorError(
                    "while constructing a mapping", node.start_mark,
                    f"found duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except _SCALAR_ERRORS as exc:
            raise pyyaml.constructor.ConstructorError(
                None, None, _scalar_problem(node, exc), node.start_mark) from None


_ManifestLoader.add_constructor("tag:yaml.org,2002:timestamp", _ManifestLoader.construct_yaml_str)


@dataclass
class ManifestDocument:
    body: Any
    line: int  # 1-based line where the document starts


# Parsed manifest streams by the digest of their text, kept as marshal bytes (each hit returns fresh
# objects: callers may change them). A fleet renders the same chart for every region and most of
# the output is the same text in every region (admission policies are 90% of it): each text is
# parsed once per process. Least recently used entries go first.
_PARSED: OrderedDict[bytes, bytes] = OrderedDict()
_PARSED_MAX = 512
_PARSED_MAX_TEXT = 1024 * 1024  # a rendered template is a few KiB to 200 KiB; a huge file is read once


def load_manifests(text: str, origin: str) -> list[ManifestDocument]:
    """Parse a multi-document manifest stream. Empty documents are dropped.

    A text parsed before in this process is not parsed again. Only streams without aliases are
    remembered: marshal would turn an alias's shared object into two copies."""
    key = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=32).digest()
    cached = _PARSED.get(key)
    if cached is not None:
        _PARSED.move_to_end(key)
        return [ManifestDocument(body, line) for body, line in marshal.loads(cached)]
    docs, shared = _parse_manifests(text, origin)
    if not shared and len(text) <= _PARSED_MAX_TEXT:
        try:
            _PARSED[key] = marshal.dumps([(d.body, d.line) for d in docs], 2)
        except ValueError:  # a type marshal cannot hold: parse it every time
            return docs
        if len(_PARSED) > _PARSED_MAX:
            _PARSED.popitem(last=False)
    return docs


def _parse_manifests(text: str, origin: str) -> tuple[list[ManifestDocument], bool]:
    """The documents, and whether any of them shares a node through an alias."""
    docs: list[ManifestDocument] = []
    shared = False
    try:
        loader = _ManifestLoader(text)
        try:
            while loader.check_node():
                node = loader.get_node()
                if node is None:
                    continue
                shared = check_node_graph(node, max_alias_nodes=MAX_EXPANDED_NODES) > 0 or shared
                body = loader.construct_document(node)
                if body is not None:
                    docs.append(ManifestDocument(body, _document_line(node)))
        finally:
            loader.dispose()
    except _GraphError as exc:
        raise InputError(exc.message, file=origin, line=exc.line) from None
    except pyyaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        problem = one_line(exc.problem or exc)
        raise InputError(f"malformed YAML: {problem}", file=origin, line=line) from None
    except pyyaml.YAMLError as exc:
        raise InputError(f"malformed YAML: {one_line(exc)}", file=origin) from None
    except RecursionError:
        raise InputError("YAML nests too deeply", file=origin) from None
    return docs, shared


def _document_line(node: Any) -> int:
    line = node.start_mark.line + 1
    if isinstance(node, pyyaml.MappingNode) and node.value:
        line = node.value[0][0].start_mark.line + 1
    return line


def iter_manifest_files(path: Path) -> Iterator[Path]:
    """YAML files in a folder, sorted, recursively; or the file itself."""
    if path.is_dir():
        for child in sorted(path.rglob("*")):
            if child.is_file() and child.suffix in (".yaml", ".yml", ".json"):
                yield child
    else:
        yield path
