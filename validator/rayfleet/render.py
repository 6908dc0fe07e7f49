"""Rendering a chart exactly as ``helm install`` would, with one of two engines.

- ``EmbeddedHelm`` (default): Helm's own Go SDK through helm-python-sdk; no binary needed.
- ``HelmBinary``: the user's ``helm`` through pyhelm3, so CI can render with the Helm that deploys.

Both return the manifest text of every template, keyed by the template's path in the chart, so
every object keeps the template it came from.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import helm_python

from .errors import EngineError, InputError
from .text import one_line


class ValuesSchemaError(Exception):
    """The merged values fail the chart's values.schema.json (a finding, not a crash)."""


class TemplateError(Exception):
    """A template failed to render (a finding, not a crash)."""


@dataclass
class Rendered:
    """Template path (``ray-aks/charts/ray-cluster/templates/ray-cluster.yaml``) → manifest text."""

    manifests: dict[str, str]
    notes: str | None = None


class Engine(Protocol):
    name: str

    def render(self, chart: Path, values_files: Sequence[Path], values: dict[str, Any], *, release: str,
               namespace: str, kube_version: str) -> Rendered:
        """Render ``chart`` with ``values`` (the folded ``values_files``) for one release."""
        ...


def _is_chart(chart: Path) -> bool:
    return (chart / "Chart.yaml").is_file() or (chart.is_file() and chart.name.endswith((".tgz", ".tar.gz")))


def check_chart_links(chart: Path) -> None:
    """Refuse a chart folder with a symlink that leads out of it. Helm follows symlinks, so a link
    to ``/proc/self/environ`` or ``~/.kube/config`` would let a template (``.Files.Get``) copy the
    CI job's environment or credentials into the rendered output, the findings and a PR comment."""
    if not chart.is_dir():
        return
    root = Path(os.path.realpath(chart))
    for folder, dirs, files in os.walk(chart, followlinks=False):
        for name in (*dirs, *files):
            path = Path(folder) / name
            if not path.is_symlink():
                continue
            target = Path(os.path.realpath(path))
            if target != root and root not in target.parents:
                raise InputError(f"is a symlink to {os.readlink(path)}, outside the chart; refusing to load the chart",
                                 file=str(path))


# Go's log package and slog's default handler: "2026/01/02 03:04:05 INFO found symbolic link ...",
# "2026/01/02 03:04:05 warning: cannot overwrite table with non table for ..." (values coalescing)
_GO_LOG_LINE = re.compile(rb"^\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2} ")


@contextmanager
def _without_go_log_lines() -> Iterator[None]:
    """Helm's loader and values coalescing log to the process's stderr (file descriptor 2) from Go,
    past Python and past helm-python-sdk's logging bridge. Capture fd 2 while they run; drop Go's log
    lines (what they warn about is a values-schema or render finding), pass on the rest."""
    try:
        saved = os.dup(2)
    except OSError:  # no stderr at all
        yield
        return
    with tempfile.TemporaryFile() as capture:
        sys.stderr.flush()
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            rest = b"".join(line for line in capture.read().splitlines(keepends=True) if not _GO_LOG_LINE.match(line))
            if rest:
                os.write(2, rest)


class EmbeddedHelm:
    """Helm's Go SDK, embedded.

    The chart is loaded afresh for every render (about 2 ms): rendering with a component disabled
    removes that subchart from the loaded chart object, so a shared one would leak between regions.
    """

    name = "embedded"

    def _load(self, chart: Path) -> helm_python.Chart:
        if not chart.exists():
            raise InputError("chart not found", file=str(chart))
        if not _is_chart(chart):
            raise InputError("is not a Helm chart (no Chart.yaml)", file=str(chart))
        check_chart_links(chart)
        try:
            with _without_go_log_lines():
                return helm_python.Chart.load(chart)
        except helm_python.HelmError as exc:
            raise InputError(f"Helm cannot load the chart: {one_line(exc)}", file=str(chart)) from None

    def render(self, chart: Path, values_files: Sequence[Path], values: dict[str, Any], *, release: str,
               namespace: str, kube_version: str) -> Rendered:
        with self._load(chart) as loaded:
            return self._render(loaded, values, release, namespace)

    @staticmethod
    def _render(loaded: helm_python.Chart, values: dict[str, Any], release: str, namespace: str) -> Rendered:
        # Rendering checks values.schema.json as `helm install` does: after disabled subcharts are
        # dropped, so a disabled component's values are not held to its schema.
        try:
            with _without_go_log_lines():
                manifests = loaded.render(values, name=release, namespace=namespace, is_install=True)
        except helm_python.HelmValuesError as exc:
            raise ValuesSchemaError(one_line(exc)) from None
        except helm_python.HelmError as exc:
            raise TemplateError(one_line(exc)) from None
        notes = next((text for name, text in manifests.items() if name.endswith("NOTES.txt")), None)
        return Rendered({k: v for k, v in manifests.items() if not k.endswith("NOTES.txt")}, notes)

    def chart_crds(self, chart: Path) -> list[tuple[str, str]]:
        """The CRD files the chart and its built dependencies ship: (name, text). Reading them is
        not rendering, so this serves whichever engine renders."""
        with self._load(chart) as loaded:
            return [(c.get("filename") or c["name"], c["data"]) for c in loaded.crds]


def pyhelm3_command(executable: str) -> tuple[str, Any]:
    """The helm binary's full path and pyhelm3's ``Command`` class, or an ``EngineError`` that
    says which is missing."""
    resolved = shutil.which(executable) or (executable if Path(executable).is_file() else None)
    if resolved is None:
        raise EngineError(f"helm binary {executable!r} not found (--helm-binary)")
    try:
        from pyhelm3 import Command
    except ImportError:  # pragma: no cover - optional extra
        raise EngineError("a helm binary is driven through pyhelm3: pip install 'rayfleet[helm-cli]'") from None
    return resolved, Command


_SOURCE = re.compile(r"^# Source: (.+)$", re.MULTILINE)


class HelmBinary:
    """A real ``helm`` binary driven through pyhelm3 (``--helm-binary``).

    It renders with the ``-f`` files themselves, so the values merge is Helm's own end to end.
    """

    name = "helm-binary"

    def __init__(self, executable: str = "helm") -> None:
        self.executable, command_type = pyhelm3_command(executable)
        self._command = command_type(executable=self.executable)

    def _run(self, args: list[str]) -> str:
        from pyhelm3.errors import Error as HelmCliError

        try:
            output = asyncio.run(self._command.run(args))
        except HelmCliError as exc:
            message = one_line(exc)
            if "values don't meet the specifications of the schema" in message or "schema(s)" in message:
                raise ValuesSchemaError(message) from None
            raise TemplateError(message) from None
        return output.decode() if isinstance(output, bytes) else str(output)

    def render(self, chart: Path, values_files: Sequence[Path], values: dict[str, Any], *, release: str,
               namespace: str, kube_version: str) -> Rendered:
        if not _is_chart(chart):
            raise InputError("is not a Helm chart (no Chart.yaml)", file=str(chart))
        check_chart_links(chart)
        args = ["template", release, str(chart), "--namespace", namespace, "--kube-version", kube_version,
                "--skip-crds"]
        for path in values_files:
            args += ["--values", str(path)]
        return Rendered(split_sources(self._run(args)))



def split_sources(stream: str) -> dict[str, str]:
    """Split ``helm template`` output into documents per ``# Source:`` template."""
    out: dict[str, str] = {}
    for doc in re.split(r"^---\s*$", stream, flags=re.MULTILINE):
        match = _SOURCE.search(doc)
        if match:
            name = match.group(1).strip()
            out[name] = out.get(name, "") + "\n---\n" + doc
    return out


def engine_for(helm_binary: str | None) -> Engine:
    return HelmBinary(helm_binary) if helm_binary else EmbeddedHelm()


