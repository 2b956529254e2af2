"""Reading Kubernetes objects from a YAML or JSON stream, one at a time.

``kubectl get -o yaml`` and ``-o json`` print one ``List`` document whose
``items`` hold every object, and ``helm template`` prints hundreds of
documents.  Composing a whole ``List`` would hold the whole dump in memory,
so this module walks parser *events* (libyaml's C parser when available) and
composes one object at a time: each document, and each item of a top-level
``items`` sequence, is handed out as soon as its last event has been read,
then dropped.

Nodes are deliberately small: plain scalars keep their text (no implicit
typing: ``creationTimestamp`` stays a string, ``"0123"`` is not a number),
and every node keeps its start/end line, column and character index so
findings can say file:line and fixes can replace exactly one value.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

import yaml
from yaml import events as ev

from hardoctor.parsing import generic_problem, yaml_problem
from hardoctor.records import dataclass

_CParser: Any
try:  # the C parser: several times faster on big dumps
    from yaml._yaml import CParser as _CParser

    HAVE_LIBYAML = True
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    _CParser = None
    HAVE_LIBYAML = False

#: Nesting deeper than this is refused (a finding, not a RecursionError).
MAX_DEPTH = 200
#: Mapping keys whose values hardoctor never needs: skipped event by event
#: without building nodes (most of a pod's text is here).
SKIP_KEYS = frozenset({
    "status", "annotations", "labels", "fieldsV1", "env", "envFrom", "ports", "resources",
    "volumeMounts", "volumes", "volumeDevices", "livenessProbe", "readinessProbe",
    "startupProbe", "args", "command", "securityContext", "affinity", "tolerations",
    "nodeSelector", "lifecycle", "finalizers", "topologySpreadConstraints", "dnsConfig",
    "hostAliases", "readinessGates", "resourceClaims", "conditions",
})


_SCALAR = ev.ScalarEvent
_ALIAS = ev.AliasEvent
_SEQ_START = ev.SequenceStartEvent
_SEQ_END = ev.SequenceEndEvent
_MAP_START = ev.MappingStartEvent
_MAP_END = ev.MappingEndEvent


class Node:
    """A YAML node: ``kind`` is ``scalar``, ``map`` or ``seq``.

    ``value`` is the scalar's text, a list of ``(key, value)`` node pairs, or
    a list of nodes.  ``repr`` never shows the value (secrets live here).
    """

    __slots__ = ("kind", "value", "_sm", "_em", "style", "tag")

    def __init__(
        self,
        kind: str,
        value: Any,
        start_mark: Any,
        end_mark: Any,
        style: str | None = None,
        tag: str | None = None,
    ) -> None:
        # The marks are kept as they are (reading them costs more than
        # keeping them): most nodes are never asked where they are.
        self.kind = kind
        self.value = value
        self._sm = start_mark
        self._em = end_mark
        self.style = style
        self.tag = tag

    @property
    def line(self) -> int:
        return int(self._sm.line) + 1

    @property
    def column(self) -> int:
        return int(self._sm.column) + 1

    @property
    def start(self) -> int:
        return int(self._sm.index)

    @property
    def end(self) -> int:
        return int(self._em.index)

    @property
    def end_line(self) -> int:
        return int(self._em.line) + 1

    def close(self, end_mark: Any) -> None:
        self._em = end_mark

    def __repr__(self) -> str:
        return f"Node({self.kind}, line {self.line})"

    # -- lookups ----------------------------------------------------------------

    def get(self, key: str) -> Node | None:
        """The value of ``key`` in a mapping (the last one, as the API server
        and kubectl do for duplicates); merge keys (``<<``) are followed."""
        if self.kind != "map":
            return None
        found: Node | None = None
        merges: list[Node] = []
        for k, v in self.value:
            if k.kind != "scalar":
                continue
            if k.value == key:
                found = v
            elif k.value == "<<" and k.style is None:
                merges.append(v)
        if found is not None:
            return found
        for m in merges:
            for part in m.value if m.kind == "seq" else [m]:
                hit = part.get(key)
                if hit is not None:
                    return hit
        return None

    def key_node(self, key: str) -> Node | None:
        """The key node of ``key`` (for renaming it)."""
        if self.kind != "map":
            return None
        found = None
        for k, _ in self.value:
            if k.kind == "scalar" and k.value == key:
                found = k
        return found

    def text(self, key: str | None = None) -> str | None:
        """A scalar's text (``None`` for ``null``/``~``/missing or a
        non-scalar), of this node or of ``self.get(key)``."""
        node = self if key is None else self.get(key)
        if node is None or node.kind != "scalar":
            return None
        if node.style is None and node.value in ("", "~", "null", "Null", "NULL"):
            return None
        return str(node.value)

    def items(self) -> list[tuple[str, Node, Node]]:
        """``(key text, key node, value node)`` of a mapping, scalar keys only."""
        if self.kind != "map":
            return []
        return [(str(k.value), k, v) for k, v in self.value if k.kind == "scalar"]

    def seq(self, key: str | None = None) -> list[Node]:
        node = self if key is None else self.get(key)
        if node is None or node.kind != "seq":
            return []
        return list(node.value)

    def is_null(self) -> bool:
        return self.kind == "scalar" and self.style is None and self.value in (
            "", "~", "null", "Null", "NULL",
        )


@dataclass(frozen=True)
class Obj:
    """One object read from a stream, and where it came from."""

    node: Node
    #: 0-based index of the YAML document in the stream.
    doc: int
    #: 0-based index inside a ``List``'s ``items`` (None: a document itself).
    item: int | None


@dataclass(frozen=True)
class StreamError:
    """The stream stopped parsing here; objects before it were handed out."""

    message: str
    line: int | None
    column: int | None


class _Walker:
    """Composes nodes from a parser's events (C or pure Python)."""

    def __init__(self, stream: IO[bytes] | IO[str] | str | bytes) -> None:
        if _CParser is not None:
            self.parser: Any = _CParser(stream)
        else:  # pragma: no cover - pure-Python PyYAML
            self.parser = yaml.SafeLoader(stream)
        self.anchors: dict[str, Node] = {}

    def close(self) -> None:
        dispose = getattr(self.parser, "dispose", None)
        if dispose is not None:
            dispose()

    def node(self, depth: int = 0) -> Node:
        # The hot loop of a big dump: event classes compared by identity,
        # parser methods bound once.
        p = self.parser
        event = p.get_event()
        cls = type(event)
        if cls is _SCALAR:
            node = Node("scalar", event.value, event.start_mark, event.end_mark,
                        event.style, event.tag)
            if event.anchor is not None:
                self.anchors[event.anchor] = node
            return node
        if cls is _ALIAS:
            anchor = event.anchor
            if anchor not in self.anchors:
                raise yaml.composer.ComposerError(
                    None, None, f"found undefined alias {anchor!r}", event.start_mark
                )
            return self.anchors[anchor]
        if depth > MAX_DEPTH:
            raise yaml.composer.ComposerError(
                None, None, f"nesting deeper than {MAX_DEPTH} levels", event.start_mark
            )
        peek = p.peek_event
        get = p.get_event
        if cls is _SEQ_START:
            items: list[Node] = []
            node = Node("seq", items, event.start_mark, event.start_mark,
                        "flow" if event.flow_style else None, event.tag)
            if event.anchor is not None:
                self.anchors[event.anchor] = node
            while type(peek()) is not _SEQ_END:
                items.append(self.node(depth + 1))
            node.close(get().end_mark)
            return node
        if cls is _MAP_START:
            pairs: list[tuple[Node, Node]] = []
            node = Node("map", pairs, event.start_mark, event.start_mark,
                        "flow" if event.flow_style else None, event.tag)
            if event.anchor is not None:
                self.anchors[event.anchor] = node
            while True:
                nxt = peek()
                kcls = type(nxt)
                if kcls is _MAP_END:
                    break
                if kcls is _SCALAR and nxt.anchor is None:
                    get()
                    key = Node("scalar", nxt.value, nxt.start_mark, nxt.end_mark, nxt.style,
                               nxt.tag)
                else:
                    key = self.node(depth + 1)
                if key.kind == "scalar" and key.value in SKIP_KEYS:
                    self.skip()
                    continue
                pairs.append((key, self.node(depth + 1)))
            node.close(get().end_mark)
            return node
        raise yaml.composer.ComposerError(  # pragma: no cover - the parser keeps the order
            None, None, f"unexpected {cls.__name__}", event.start_mark
        )

    def skip(self) -> None:
        """Consume one node's events without building it; anchors inside
        become empty placeholders (nothing hardoctor reads aliases them)."""
        get = self.parser.get_event
        depth = 0
        while True:
            event = get()
            cls = type(event)
            if cls is _MAP_START or cls is _SEQ_START:
                if event.anchor is not None:
                    self.anchors[event.anchor] = Node("scalar", "", event.start_mark,
                                                      event.start_mark)
                depth += 1
            elif cls is _MAP_END or cls is _SEQ_END:
                depth -= 1
            elif cls is _SCALAR and event.anchor is not None:
                self.anchors[event.anchor] = Node("scalar", event.value, event.start_mark,
                                                  event.end_mark)
            if depth <= 0:
                return

    def documents(self) -> Iterator[Obj]:
        p = self.parser
        p.get_event()  # StreamStart
        doc = 0
        while not p.check_event(ev.StreamEndEvent):
            p.get_event()  # DocumentStart
            self.anchors = {}
            if p.check_event(ev.MappingStartEvent):
                yield from self._root_mapping(doc)
            else:
                self.node()  # a scalar or a sequence: not an object
            p.get_event()  # DocumentEnd
            doc += 1
        p.get_event()

    def _root_mapping(self, doc: int) -> Iterator[Obj]:
        """A document whose top-level ``items`` is a sequence is a List
        (``kubectl get -o yaml`` writes ``items`` before ``kind``): its items
        are handed out one by one; any other mapping is an object."""
        p = self.parser
        start = p.get_event()
        pairs: list[tuple[Node, Node]] = []
        root = Node("map", pairs, start.start_mark, start.start_mark,
                    "flow" if start.flow_style else None, start.tag)
        if start.anchor is not None:
            self.anchors[start.anchor] = root
        is_list = False
        while not p.check_event(ev.MappingEndEvent):
            key = self.node(1)
            if key.kind == "scalar" and key.value == "items" and p.check_event(
                ev.SequenceStartEvent
            ) and not p.peek_event().anchor:
                is_list = True
                seq_start = p.get_event()
                index = 0
                while not p.check_event(ev.SequenceEndEvent):
                    item = self.node(2)
                    if item.kind == "map":
                        yield Obj(item, doc, index)
                    index += 1
                seq_end = p.get_event()
                placeholder = Node("seq", [], seq_start.start_mark, seq_end.end_mark)
                pairs.append((key, placeholder))
                continue
            pairs.append((key, self.node(1)))
        root.close(p.get_event().end_mark)
        if not is_list:
            yield Obj(root, doc, None)


def iter_objects(stream: IO[bytes] | IO[str] | str | bytes) -> Iterator[Obj | StreamError]:
    """Every mapping document and every ``items`` entry of a List, in order.

    Stops at the first syntax error with a :class:`StreamError` (the objects
    before it have been yielded).  Never raises for bad input.
    """
    walker = _Walker(stream)
    try:
        yield from walker.documents()
    except (yaml.YAMLError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        # Never PyYAML's text: it quotes aliases, anchors and tags of the input.
        problem = yaml_problem(exc) if isinstance(exc, yaml.YAMLError) else generic_problem(exc)
        yield StreamError(problem.category, problem.line, problem.column)
    finally:
        walker.close()


def parse_fragment(text: str) -> Iterator[Obj | StreamError]:
    """The same walk over a string, with the pure-Python parser (whose marks
    index characters of exactly this string): used to locate values for
    edits."""
    walker = _Walker.__new__(_Walker)
    walker.parser = yaml.SafeLoader(text)
    walker.anchors = {}
    try:
        yield from walker.documents()
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        problem = yaml_problem(exc) if isinstance(exc, yaml.YAMLError) else generic_problem(exc)
        yield StreamError(problem.category, problem.line, problem.column)
    finally:
        walker.close()
