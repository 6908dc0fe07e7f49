"""The validation pipeline: fleet → values → render → object schemas → policies → waivers.

Public entry points (re-exported by ``rayfleet``): ``validate_fleet``, ``scan_manifests``,
``render_region``, ``render_fleet``. Policies run through ``rayfleet.runner``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from .anyscale import render_operator
from .capacity.table import CapacityTable, capacity_table
from .errors import InputError
from .findings import Finding, SourceLocation
from .fleet import Fleet, PolicySettings, Region, load_fleet
from .manifests import KubeObject, load_manifest_paths, objects_from_text
from .parallel import RegionOutcome, check_in_pool, picklable, pool_size
from .plan import format_command, helm_command
from .policies import ALL_POLICIES, Policy, Scope, get_policy
from .render import EmbeddedHelm, Engine, TemplateError, ValuesSchemaError, engine_for
from .result import RegionSummary, Result, Timings
from .runner import Waivers, check, finish, to_finding
from .schemas_check import CustomResourceSchemas, ObjectSchemas, crds_from_chart_files, load_crds_folder
from .subjects import FindingContext, FleetView, ReleaseObjects
from .values import ValuesFile, ValuesStack, load_values_file
from .yamlio import MAX_MANIFEST_FILE_BYTES, iter_manifest_files, read_text

Progress = Callable[[str], None]


@dataclass
class RegionRender:
    """One region's rendered release, and what went wrong while rendering it."""

    region: Region
    release: ReleaseObjects
    findings: list[Finding] = field(default_factory=list)
    command: list[str] = field(default_factory=list)
    rendered: bool = True


class _Session:
    """What one run shares across regions: the engine (charts loaded once), values files read
    once, CRD schemas compiled once, timings."""

    def __init__(self, fleet: Fleet, engine: Engine | None, timings: Timings) -> None:
        self.fleet = fleet
        self.engine = engine or EmbeddedHelm()
        self.timings = timings
        self._values: dict[Path, ValuesFile] = {}

    def values_file(self, path: Path) -> ValuesFile:
        key = path.resolve()
        if key not in self._values:
            self._values[key] = load_values_file(path, display=self.fleet.relative(path))
        return self._values[key]


def _template_path(fleet: Fleet, template: str) -> str:
    # Helm names templates "<chart name>/templates/x.yaml"; show them as paths in the repo.
    _, _, rest = template.partition("/")
    return fleet.relative(fleet.chart / rest) if fleet.chart.is_dir() else template


def render_region(fleet: Fleet, region: Region, *, engine: Engine | None = None,
                  timings: Timings | None = None, _session: _Session | None = None) -> RegionRender:
    """Render one region exactly as ``helm upgrade --install`` would (or load its pre-rendered
    manifests). Values-schema and template failures become findings; bad files raise InputError."""
    timings = timings or Timings()
    session = _session or _Session(fleet, engine, timings)
    command = helm_command(fleet, region)
    if region.manifests is not None:
        with timings.stage("load"):
            objects = _load_region_manifests(fleet, region)
        render = RegionRender(region, _release(fleet, region, objects, None), [], command)
        _render_anyscale(fleet, region, render, session)
        return render
    with timings.stage("load"):
        files = [session.values_file(p) for p in fleet.values_stack_paths(region)]
    with timings.stage("merge"):
        stack = ValuesStack(files)
    with timings.stage("render"):
        try:
            rendered = session.engine.render(fleet.chart, fleet.values_stack_paths(region), stack.merged,
                                             release=region.release_name, namespace=region.namespace,
                                             kube_version=region.cluster.kubernetes_version)
        except ValuesSchemaError as exc:
            finding = _values_schema_finding(str(exc), stack, region)
            return RegionRender(region, _release(fleet, region, [], stack), [finding], command, rendered=False)
        except TemplateError as exc:
            finding = _pipeline_finding("render-error", f"the chart does not render: {exc}", region.name,
                                        SourceLocation(fleet.relative(fleet.chart)))
            return RegionRender(region, _release(fleet, region, [], stack), [finding], command, rendered=False)
        findings: list[Finding] = []
        rendered_objects: list[KubeObject] = []
        for template, text in sorted(rendered.manifests.items()):
            if not text.strip():
                continue
            shown = _template_path(fleet, template)
            try:
                objects = objects_from_text(text, shown, template=shown, default_namespace=region.namespace)
            except InputError as exc:
                findings.append(_pipeline_finding("render-error", f"template output is not valid: {exc.message}",
                                                  region.name, SourceLocation(shown)))
                continue
            for obj in objects:  # a line in rendered output is not a line of the template: drop it
                obj.origin = SourceLocation(shown)
            rendered_objects.extend(objects)
    render = RegionRender(region, _release(fleet, region, rendered_objects, stack), findings, command)
    _render_anyscale(fleet, region, render, session)
    return render


def _render_anyscale(fleet: Fleet, region: Region, render: RegionRender, session: _Session) -> None:
    """A region's Anyscale operator chart, rendered the same way, its objects joined to the release."""
    if region.anyscale is None:
        return
    source = SourceLocation(fleet.relative(region.anyscale.chart))
    with session.timings.stage("render"):
        try:
            render.release = render.release.with_anyscale(render_operator(fleet, region, session.engine,
                                                                          session.values_file))
        except ValuesSchemaError as exc:
            render.findings.append(_pipeline_finding(
                "values-schema", f"Anyscale operator values fail its values.schema.json: {exc}", region.name, source))
        except TemplateError as exc:
            render.findings.append(_pipeline_finding(
                "render-error", f"the Anyscale operator chart does not render: {exc}", region.name, source))


def _release(fleet: Fleet, region: Region, objects: list[KubeObject], stack: ValuesStack | None) -> ReleaseObjects:
    return ReleaseObjects(tuple(objects), fleet.settings, region.cluster.kubernetes_version, region, fleet, stack)


def _load_region_manifests(fleet: Fleet, region: Region) -> list[KubeObject]:
    assert region.manifests is not None
    if not region.manifests.exists():
        raise InputError(f"region {region.name}: manifests not found", file=fleet.relative(region.manifests))
    objects: list[KubeObject] = []
    for file in iter_manifest_files(region.manifests):
        shown = fleet.relative(file)
        text = read_text(file, max_bytes=MAX_MANIFEST_FILE_BYTES, label="manifest file")
        objects.extend(objects_from_text(text, shown, default_namespace=region.namespace))
    return objects


# Helm's schema errors read "- at '/workerGroups/gpu/minReplicas': got string, want integer".
_SCHEMA_LINE = re.compile(r"(?:^|\s)-\s+(?:at\s+)?'([^']+)'")


def _values_schema_finding(message: str, stack: ValuesStack, region: Region) -> Finding:
    """Point a values.schema.json failure at the values file (and line) that set the key."""
    source = None
    match = _SCHEMA_LINE.search(message)
    if match:
        raw = match.group(1)
        parts: list[str | int] = [p for p in re.split(r"[./\[\]]+", raw) if p]
        parts = [int(p) if isinstance(p, str) and p.isdigit() else p for p in parts]
        chart_prefix = re.search(r"([A-Za-z0-9_-]+):\s*-\s*at\b", message)
        candidates = [tuple(parts)]
        if chart_prefix:
            candidates.insert(0, (chart_prefix.group(1), *parts))
        for candidate in candidates:
            for end in range(len(candidate), 0, -1):
                source = stack.origin(candidate[:end]) or _origin_below(stack, candidate[:end])
                if source:
                    break
            if source:
                break
    if source is None and stack.files:
        source = SourceLocation(stack.files[-1].path)
    return _pipeline_finding("values-schema", f"values fail the chart's values.schema.json: {message}",
                             region.name, source)


def _origin_below(stack: ValuesStack, prefix: tuple) -> SourceLocation | None:
    for values_file in reversed(stack.files):
        line = values_file.document.lines.get(prefix)
        if line:
            return SourceLocation(values_file.path, line)
    return None


def _pipeline_finding(policy_id: str, message: str, region: str | None, source: SourceLocation | None,
                      obj: KubeObject | None = None) -> Finding:
    policy = get_policy(policy_id)
    return Finding(policy.id, policy.severity, message, policy.remediation, region=region,
                   obj=obj.ref if obj else None, source=source, template=obj.template if obj else None)


def _crd_schemas(fleet: Fleet | None, crds: str | Path | None) -> CustomResourceSchemas:
    """CRDs from --crds, else the fleet file's ``crds``, else the chart's built dependencies."""
    if crds is not None:
        return CustomResourceSchemas(load_crds_folder(crds))
    if fleet is not None and fleet.crds is not None:
        return CustomResourceSchemas(load_crds_folder(fleet.crds))
    if fleet is not None and fleet.chart.exists():
        return CustomResourceSchemas(crds_from_chart_files(EmbeddedHelm().chart_crds(fleet.chart)))
    return CustomResourceSchemas()


def check_objects(release: ReleaseObjects, schemas: ObjectSchemas, selected: set[str]) -> list[Finding]:
    """Object schema findings for every object of a release."""
    findings: list[Finding] = []
    for obj in release.objects:
        context = FindingContext(release, obj, release.region_name)
        for item in schemas.check(obj):
            if item.policy in selected:
                findings.append(to_finding(get_policy(item.policy), item.violation, context))
    return findings


def _select(policies: Iterable[Policy | str] | None) -> tuple[Policy, ...]:
    """The policies asked for (all by default), less the live checks: those run in the commands
    that talk to Azure or a cluster, never in validate or scan."""
    chosen = ALL_POLICIES if policies is None else tuple(get_policy(p) if isinstance(p, str) else p
                                                         for p in policies)
    return tuple(p for p in chosen if p.scope is not Scope.LIVE)


def render_fleet(fleet: Fleet, regions: Sequence[str] | None = None, *, engine: Engine | None = None,
                 timings: Timings | None = None) -> dict[str, RegionRender]:
    """Render the selected regions (all by default); region name → ``RegionRender``."""
    timings = timings or Timings()
    session = _Session(fleet, engine, timings)
    return {r.name: render_region(fleet, r, timings=timings, _session=session) for r in fleet.select(regions)}


def region_checker(fleet: Fleet, engine: Engine | None, chosen: tuple[Policy, ...], crds: str | Path | None,
                   timings: Timings | None = None) -> tuple[Callable[[Region], RegionOutcome], Timings]:
    """The per-region half of ``validate_fleet`` (render, object schemas, release policies), as a
    function of the region; the same in-process and in a worker of ``rayfleet.parallel``."""
    timings = timings or Timings()
    selected_ids = {p.id for p in chosen}
    session = _Session(fleet, engine, timings)
    with timings.stage("schemas"):
        crd_schemas = _crd_schemas(fleet, crds)

    def check_region(region: Region) -> RegionOutcome:
        render = render_region(fleet, region, timings=timings, _session=session)
        findings = [f for f in render.findings if f.policy in selected_ids]
        with timings.stage("schemas"):
            schemas = ObjectSchemas(region.cluster.kubernetes_version, crd_schemas)
            findings.extend(check_objects(render.release, schemas, selected_ids))
        with timings.stage("policies"):
            findings.extend(check(chosen, render.release))
        release = render.release
        summary = RegionSummary(region.name, len(release.objects), render.rendered, format_command(render.command))
        return RegionOutcome(region.name, release.objects, release.values, release.anyscale, render.rendered,
                             findings, summary, release=release)

    return check_region, timings


def validate_fleet(fleet: Fleet | str | Path, *, regions: Sequence[str] | None = None,
                   policies: Iterable[Policy | str] | None = None, crds: str | Path | None = None,
                   helm_binary: str | None = None, engine: Engine | None = None, today: date | None = None,
                   progress: Progress | None = None, jobs: int | None = None) -> Result:
    """Render every selected region, check object schemas, run every policy, apply waivers.

    ``jobs``: processes for the per-region work (``None``: one per core, in-process for small
    fleets; 1: in-process). The result is the same whatever the number (``rayfleet.parallel``).
    ``Result.capacity`` is the GPU capacity table (in the JSON and markdown reports);
    ``Result.releases`` every region's rendered objects (so a rollout does not render twice)."""
    timings = Timings()
    with timings.stage("load"):
        fleet = fleet if isinstance(fleet, Fleet) else load_fleet(fleet)
        selected_regions = fleet.select(regions)
    engine = engine or engine_for(helm_binary)
    chosen = _select(policies)
    by_name = {r.name: r for r in selected_regions}
    processes = pool_size(jobs, len(selected_regions))
    if processes > 1 and picklable(fleet, engine, chosen):
        outcomes: Iterable[RegionOutcome] = check_in_pool(region_checker, fleet, list(by_name), processes, engine,
                                                          chosen, crds)
    else:
        check_region, _ = region_checker(fleet, engine, chosen, crds, timings)

        def in_process(region: Region) -> RegionOutcome:
            if progress:
                progress(region.name)
            return check_region(region)

        outcomes = map(in_process, selected_regions)
    result = Result(command="validate", policies=chosen, timings=timings)
    releases: dict[str, ReleaseObjects] = {}
    rendered: set[str] = set()
    for outcome in outcomes:
        region = by_name[outcome.name]
        if outcome.release is None:  # from a worker: rebuilt around this process's fleet
            if progress:
                progress(region.name)
            for stage, seconds in outcome.stages.items():
                timings.stages[stage] = timings.stages.get(stage, 0.0) + seconds
            outcome.release = ReleaseObjects(outcome.objects, fleet.settings, region.cluster.kubernetes_version,
                                             region, fleet, outcome.values, outcome.anyscale)
        releases[region.name] = outcome.release
        if outcome.rendered:
            rendered.add(region.name)
        result.findings.extend(outcome.findings)
        result.regions.append(outcome.summary)
    with timings.stage("policies"):
        # A region that did not render has no objects: leave it out rather than let it look empty.
        view = FleetView(fleet, {name: r for name, r in releases.items() if name in rendered})
        result.findings.extend(check(chosen, view))
        result.capacity = capacity_table(view)
        finish(result, Waivers(fleet, today, [r.name for r in selected_regions], report=False))
    result.releases = releases
    return result


def scan_manifests(paths: Sequence[str], *, kube_version: str = "1.33", crds: str | Path | None = None,
                   policies: Iterable[Policy | str] | None = None, settings: PolicySettings | None = None,
                   stdin: Any = None, fleet: Fleet | None = None, stdin_name: str | None = None) -> Result:
    """The same schemas and release policies over manifests rendered elsewhere.

    With ``fleet``, its policy settings and VM sizes apply. Fleet policies are skipped either way
    (they compare each region's release with the fleet file, and scanned manifests belong to no
    region), as are release policies that need the fleet file when there is none; both are listed
    in ``Result.skipped_policies`` with the reason in ``Result.skip_reason``.
    """
    timings = Timings()
    chosen = _select(policies)
    selected_ids = {p.id for p in chosen}
    with timings.stage("load"):
        objects = load_manifest_paths(paths, stdin=stdin, stdin_name=stdin_name)
        crd_schemas = _crd_schemas(None, crds)
    release = ReleaseObjects(tuple(objects), settings or (fleet.settings if fleet else PolicySettings()), kube_version,
                             fleet=fleet)
    if not objects:
        shown = ", ".join("<stdin>" if p == "-" else p for p in paths)
        raise InputError("found no Kubernetes objects to check", file=shown)
    result = Result(command="scan", policies=chosen, timings=timings)
    result.inputs, result.stdin_name = tuple(paths), stdin_name  # where SARIF points findings without a file
    with timings.stage("schemas"):
        result.findings.extend(check_objects(release, ObjectSchemas(kube_version, crd_schemas), selected_ids))
    with timings.stage("policies"):
        result.findings.extend(check(chosen, release))
    result.skipped_policies = tuple(p.id for p in chosen
                                    if p.scope is Scope.FLEET or (p.needs_fleet and fleet is None))
    result.policies = tuple(p for p in chosen if p.id not in result.skipped_policies)
    if fleet is not None:
        result.skip_reason = "compares each region's rendered release; run rayfleet validate"
        why = ("they compare each region's rendered release with the fleet file, and scanned manifests belong "
               f"to no region: run `rayfleet validate {fleet.relative(fleet.path)}`")
    else:
        why = "they need the fleet file"
    if result.skipped_policies:
        result.notes.append(f"skipped ({why}): " + ", ".join(result.skipped_policies))
    result.regions.append(RegionSummary(None, len(objects)))
    return result


def fleet_capacity(fleet: Fleet, regions: Sequence[str] | None = None) -> CapacityTable:
    """The GPU capacity table of the selected regions (they are rendered to know their demand)."""
    renders = render_fleet(fleet, regions)
    return capacity_table(FleetView(fleet, {n: r.release for n, r in renders.items() if r.rendered}))


__all__ = ["RegionRender", "fleet_capacity", "format_command", "helm_command", "render_fleet", "render_region",
           "scan_manifests", "validate_fleet"]
