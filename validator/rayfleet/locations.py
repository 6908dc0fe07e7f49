"""Where a finding points in the repository: the file and line code scanning shows it at.

A finding about a rendered object points at the template line that produced the field (found by
reading the template's YAML keys, skipping Helm directives), else the values file line that set
the value, else line 1 of the template. Every finding gets a location: fleet-level findings point
at the region's entry in the fleet file, stdin at the name given for it (or a pseudo-path).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .findings import Finding, SourceLocation

STDIN = "<stdin>"
# What stdin is called when no --stdin-name was given: a relative path code scanning accepts.
STDIN_PSEUDO_PATH = "rayfleet-stdin.yaml"

_PATH_TOKEN = re.compile(r'\["((?:[^"\\]|\\.)*)"\]|\[(\d+)\]|\[[^\]]*\]|([^.\[\]]+)')
_KEY_LINE = re.compile(r'^(?P<indent>\s*)(?P<dash>-\s+)?(?P<key>"[^"{}]*"|\'[^\'{}]*\'|[^\s:#{}\'"-][^:#{}]*?)'
                       r'\s*:(?:\s+(?P<value>.*))?$')
_EMITS = re.compile(r"\b(include|toYaml|toJson|tpl|template)\b")


_HELM_SOURCE = re.compile(r"^# Source: (\S+)\s*$")


def helm_template_sources(text: str, chart_dir: str) -> list[tuple[int, str]]:
    """Where ``helm template`` output says each document came from: (line of the ``# Source:``
    comment, template path under ``chart_dir``), in order. Helm writes the chart's name first
    (``ray-aks/charts/ray-cluster/templates/x.yaml``): the chart folder takes its place; a path
    that already is a file (``rayfleet render`` writes repository paths) stays as it is."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = _HELM_SOURCE.match(line)
        if not match:
            continue
        written = match.group(1)
        _, _, rest = written.partition("/")
        if Path(written).is_absolute():
            continue  # not a path in the repository: code scanning could not show it
        if Path(written).is_file():
            found.append((number, written))
        elif rest:
            found.append((number, f"{chart_dir.rstrip('/')}/{rest}"))
    return found


def template_for_line(sources: list[tuple[int, str]], line: int) -> str | None:
    """The template of the document starting at ``line``: the last ``# Source:`` above it."""
    chosen = None
    for number, template in sources:
        if number > line:
            break
        chosen = template
    return chosen


def field_keys(path: str) -> tuple[str, ...]:
    """The mapping keys of a field path (``a.b[0]["x.io/y"]`` → ``("a", "b", "x.io/y")``): list
    indices drop out, since a template writes one item for every index (``range``)."""
    keys: list[str] = []
    for quoted, _index, plain in _PATH_TOKEN.findall(path):
        if quoted:
            keys.append(quoted.replace('\\"', '"').replace("\\\\", "\\"))
        elif plain:
            keys.append(plain)
    return tuple(keys)


@dataclass
class _KeyLine:
    line: int
    keys: tuple[str, ...]
    emits: bool  # its value (or the directive lines under it) writes a subtree: include, toYaml


def template_key_lines(text: str) -> list[_KeyLine]:
    """Each ``key:`` line of a template with the key path leading to it, read by indentation.

    Lines that are only Helm directives (``{{- if }}``, ``{{ include }}``) carry no key; a directive
    line right under a key marks that key as emitting a subtree."""
    result: list[_KeyLine] = []
    stack: list[tuple[int, str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("{{"):
            if result and _EMITS.search(stripped) and result[-1].line < number:
                result[-1].emits = True
            continue
        match = _KEY_LINE.match(raw)
        if match is None:
            continue
        indent = len(match.group("indent")) + len(match.group("dash") or "")
        key = match.group("key").strip().strip("\"'")
        while stack and stack[-1][0] >= indent:
            stack.pop()
        stack.append((indent, key))
        value = match.group("value") or ""
        result.append(_KeyLine(number, tuple(k for _, k in stack), bool(_EMITS.search(value))))
    return result


def template_line(text: str, path: str) -> int | None:
    """The template line that produced the field at ``path``: the line of the field itself, or
    of the deepest key above it whose value is written by an include or toYaml."""
    keys = field_keys(path)
    if not keys:
        return None
    lines = template_key_lines(text)
    for depth in range(len(keys), 0, -1):
        prefix = keys[:depth]
        for key_line in lines:
            if key_line.keys == prefix and (depth == len(keys) or key_line.emits):
                return key_line.line
    return None


@dataclass
class Locator:
    """Finds each finding's location. ``fleet_file`` and ``region_lines`` come from the fleet file
    (``validate``); ``inputs`` are the scanned paths (``scan``); ``stdin_name`` names stdin."""

    fleet_file: str | None = None
    region_lines: dict[str, int] = field(default_factory=dict)
    inputs: tuple[str, ...] = ()
    stdin_name: str | None = None
    default_file: str | None = None  # for results of neither validate nor scan: the file they are about
    _texts: dict[str, str | None] = field(default_factory=dict, repr=False)

    def _template_text(self, template: str) -> str | None:
        if template not in self._texts:
            try:
                self._texts[template] = Path(template).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                self._texts[template] = None  # e.g. a dependency packed as a .tgz
        return self._texts[template]

    def _file(self, file: str) -> str:
        return (self.stdin_name or STDIN_PSEUDO_PATH) if file == STDIN else file

    def locate(self, finding: Finding) -> list[SourceLocation]:
        """The finding's locations, the primary one first (never empty)."""
        source = finding.source
        if finding.template:
            text = self._template_text(finding.template)
            line = template_line(text, finding.path) if text is not None and finding.path else None
            elsewhere = source is not None and source.file not in (finding.template, STDIN, self.stdin_name)
            values_line = source if elsewhere and source is not None and source.line else None
            if line is not None:
                return [SourceLocation(finding.template, line), *([values_line] if values_line else [])]
            if values_line is not None:
                return [values_line, SourceLocation(finding.template, 1)]
            return [SourceLocation(finding.template, 1)]
        if source is not None and not source.file.startswith("<"):
            line = source.line
            if line is None and source.file == self.fleet_file and finding.region:
                line = self.region_lines.get(finding.region)
            return [SourceLocation(source.file, line or 1)]
        if source is not None and source.file == STDIN:
            return [SourceLocation(self._file(STDIN), source.line or 1)]
        if self.fleet_file or self.default_file:
            return [SourceLocation(self.fleet_file or self.default_file or "",
                                   self.region_lines.get(finding.region or "", 1))]
        first = self.inputs[0] if self.inputs else STDIN
        return [SourceLocation(self._file("<stdin>" if first == "-" else first), 1)]
