"""The Anyscale operator as a region's option: its chart (the user's, pinned), rendered the normal way.

A region with ``anyscale:`` in the fleet file runs the Anyscale operator alongside the umbrella
chart's RayCluster (or instead of it, when the region's values set ``ray-cluster.enabled: false``).
The operator chart is not ours and may not be modified beyond values, so rayfleet renders exactly
the chart the user points at, with the user's values files, through the same engine as the
umbrella chart. Its objects join the region's release, so every release policy (no secrets, pinned
images, workload identity) checks them too (``ReleaseObjects.with_anyscale``), and the ``anyscale-*``
policies read ``ReleaseObjects.anyscale`` for the values the chart was given. The identity plan picks up
the operator's ServiceAccount like any other annotated one (the chart annotates it with ``global.auth.iamIdentity``).

Value names follow the chart's documented values (``global.auth.iamIdentity``, ``global.auth.audience``,
``global.auth.anyscaleCliToken``, ``operator.serviceAccount.name``; see docs/anyscale.md).
"""

from __future__ import annotations

import tarfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from .errors import InputError
from .findings import SourceLocation
from .manifests import KubeObject, objects_from_text
from .values import ValuesFile, ValuesStack

if TYPE_CHECKING:
    from .fleet import AnyscaleOperator, Fleet, Region
    from .render import Engine

CLI_TOKEN_VALUE = ("global", "auth", "anyscaleCliToken")
IAM_IDENTITY_VALUE = ("global", "auth", "iamIdentity")
AUDIENCE_VALUE = ("global", "auth", "audience")
CLI_TOKEN_SECRET = "anyscale-cli-token"
CLI_TOKEN_ENV = "ANYSCALE_CLI_TOKEN"
DEFAULT_SERVICE_ACCOUNT = "anyscale-operator"
USE_LABEL = "azure.workload.identity/use"
PROXY_SIDECAR_ANNOTATION = "azure.workload.identity/inject-proxy-sidecar"


@dataclass
class AnyscaleRelease:
    """A region's rendered Anyscale operator release: the fleet's declaration, the values stack, the objects."""

    operator: AnyscaleOperator
    values: ValuesStack
    objects: list[KubeObject] = field(default_factory=list)

    def value(self, path: tuple[str, ...]) -> Any:
        """A value of the user's stack (None when unset)."""
        node: Any = self.values.merged
        for key in path:
            if not isinstance(node, dict):
                return None
            node = node.get(key)
        return node

    @property
    def service_account(self) -> str:
        name = self.value(("operator", "serviceAccount", "name"))
        return str(name) if isinstance(name, str) and name else DEFAULT_SERVICE_ACCOUNT


def chart_version(chart: Path) -> str | None:
    """The ``version`` of a chart folder's or archive's Chart.yaml (None when it has none)."""
    version = chart_metadata(chart).get("version")
    return str(version) if version is not None else None


def chart_metadata(chart: Path) -> dict[str, Any]:
    """A chart folder's or archive's Chart.yaml as a mapping (empty when unreadable)."""
    text: str | None = None
    if chart.is_dir():
        meta = chart / "Chart.yaml"
        text = meta.read_text(encoding="utf-8") if meta.is_file() else None
    elif chart.is_file():
        try:
            with tarfile.open(chart) as archive:
                member = next((m for m in archive.getmembers()
                               if m.name.count("/") == 1 and m.name.endswith("/Chart.yaml")), None)
                handle = archive.extractfile(member) if member else None
                text = handle.read().decode("utf-8") if handle else None
        except (tarfile.TarError, OSError, UnicodeDecodeError):
            return {}
    try:
        data = yaml.safe_load(text) if text else None
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}


def check_pin(fleet: Fleet, region: Region, operator: AnyscaleOperator) -> None:
    shown = fleet.relative(operator.chart)
    index = fleet.regions.index(region)
    line = fleet.document.line_of(("regions", index, "anyscale", "version")) if fleet.document else None
    if not operator.chart.exists():
        raise InputError(f"region {region.name}: the Anyscale operator chart {shown} is not found",
                         file=str(fleet.path), line=line, field=f"regions[{index}].anyscale.chart")
    found = chart_version(operator.chart)
    if found is None:
        raise InputError(f"region {region.name}: the Anyscale operator chart {shown} is not a Helm chart "
                         "(no readable Chart.yaml with a version)", file=str(fleet.path), line=line,
                         field=f"regions[{index}].anyscale.chart")
    if found.lstrip("v") != operator.version.lstrip("v"):
        raise InputError(f"region {region.name}: the Anyscale operator chart {shown} is version {found}, "
                         f"the fleet file pins {operator.version}", file=str(fleet.path), line=line,
                         field=f"regions[{index}].anyscale.version")
    name = chart_metadata(operator.chart).get("name")
    if operator.source is not None and name != operator.source.chart_name:
        raise InputError(f"region {region.name}: the Anyscale operator chart {shown} is named {name}, its source "
                         f"publishes {operator.source.chart_name}: they must be the same chart",
                         file=str(fleet.path), field=f"regions[{index}].anyscale.source")


def render_operator(fleet: Fleet, region: Region, engine: Engine,
                    values_file: Callable[[Path], ValuesFile]) -> AnyscaleRelease:
    """Render a region's Anyscale operator chart with its values files, as ``helm install`` would.

    Raises ``InputError`` for a missing chart or a version other than the pinned one, and the
    engine's ``ValuesSchemaError``/``TemplateError`` for a chart that does not render."""
    operator = region.anyscale
    assert operator is not None
    check_pin(fleet, region, operator)
    stack = ValuesStack([values_file(p) for p in operator.values_files])
    rendered = engine.render(operator.chart, operator.values_files, stack.merged, release=operator.release_name,
                             namespace=operator.namespace, kube_version=region.cluster.kubernetes_version)
    result = AnyscaleRelease(operator, stack)
    for template, text in sorted(rendered.manifests.items()):
        if not text.strip():
            continue
        shown = f"{fleet.relative(operator.chart)}:{template.partition('/')[2] or template}"
        for obj in objects_from_text(text, shown, template=shown, default_namespace=operator.namespace):
            obj.origin = SourceLocation(shown)  # a line of rendered output is not a line of the template
            result.objects.append(obj)
    return result
