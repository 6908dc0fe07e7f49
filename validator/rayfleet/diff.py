"""What a change does to each region's release: objects added, removed and changed (field by
field, secret values redacted), and findings that appear or disappear.

The base is a git commit materialised with ``git archive`` into a temporary folder (the user's
working tree, index and ``.git`` are never written), or a folder the caller already has.
"""

from __future__ import annotations

import re
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputError
from .findings import Finding
from .fingerprints import stable_key
from .fleet import load_fleet
from .manifests import KubeObject
from .pipeline import validate_fleet
from .render import Engine
from .result import Result
from .secrets import child_path, detect, redact

ABSENT = object()  # the field does not exist on that side
MAX_FIELDS_PER_OBJECT = 60  # a whole new worker group is listed in full up to here, then summarised


@dataclass
class FieldChange:
    path: str
    before: Any  # ABSENT when the field was added
    after: Any  # ABSENT when the field was removed


@dataclass
class ObjectChange:
    kind: str
    namespace: str | None
    name: str
    status: str  # added | removed | changed
    fields: list[FieldChange] = field(default_factory=list)
    more_fields: int = 0  # changed fields beyond MAX_FIELDS_PER_OBJECT

    @property
    def label(self) -> str:
        return f"{self.kind}/{self.namespace + '/' if self.namespace else ''}{self.name}"


@dataclass
class RegionDiff:
    name: str
    status: str  # added | removed | changed | unchanged
    objects: list[ObjectChange] = field(default_factory=list)
    new_findings: list[Finding] = field(default_factory=list)
    fixed_findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # e.g. the region did not render at the base


@dataclass
class FleetDiff:
    base: str  # what the base is, for headings: a git ref or a folder
    regions: list[RegionDiff] = field(default_factory=list)
    fleet_new_findings: list[Finding] = field(default_factory=list)  # findings about no one region
    fleet_fixed_findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.fleet_new_findings or self.fleet_fixed_findings
                    or any(r.status != "unchanged" for r in self.regions))


# --- the base ---------------------------------------------------------------------------------

def _git(args: Sequence[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, timeout=300, check=False)
    except FileNotFoundError:
        raise InputError("git is not installed: give the base as a folder with --base-dir") from None


def repository_root(path: Path) -> Path | None:
    """The git work tree holding ``path``, or None."""
    proc = _git(["rev-parse", "--show-toplevel"], path if path.is_dir() else path.parent)
    return Path(proc.stdout.decode().strip()) if proc.returncode == 0 else None


@contextmanager
def git_base(repo: Path, ref: str) -> Iterator[Path]:
    """The tree of commit ``ref`` in a temporary folder (``git archive``; deleted afterwards)."""
    proc = _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], repo)
    if proc.returncode != 0 or ref.startswith("-"):
        raise InputError(f"--base {ref}: not a commit in this repository (fetch it first, e.g. "
                         f"`git fetch origin {ref}`)", file=str(repo))
    commit = proc.stdout.decode().strip()
    with tempfile.TemporaryDirectory(prefix="rayfleet-base-") as tmp:
        with tempfile.TemporaryFile() as errors, subprocess.Popen(
                ["git", "archive", "--format=tar", commit], cwd=repo, stdout=subprocess.PIPE, stderr=errors) as archive:
            assert archive.stdout is not None
            with tarfile.open(fileobj=archive.stdout, mode="r|") as tar:
                tar.extractall(tmp, filter="data")
            if archive.wait() != 0:
                errors.seek(0)
                message = errors.read().decode(errors="replace").strip()
                raise InputError(f"--base {ref}: git archive failed: {message}", file=str(repo))
        yield Path(tmp)


# --- comparing ----------------------------------------------------------------------------------

def _object_key(obj: KubeObject) -> tuple[str, str, str, str]:
    return obj.group, obj.kind, obj.namespace or "", obj.name


def _item_name(item: Any) -> Any:
    return item.get("name", item.get("groupName")) if isinstance(item, dict) else None


def _named_items(items: list[Any]) -> dict[str, Any] | None:
    """A list of maps keyed by ``name`` (containers, env, volumes) or ``groupName`` (Ray worker
    groups), else None."""
    names = [_item_name(item) for item in items]
    if not all(isinstance(n, str) for n in names) or len(set(names)) != len(names):
        return None
    return dict(zip(names, items, strict=True))


def field_changes(before: Any, after: Any, path: str = "") -> Iterator[FieldChange]:
    """Leaf-level differences between two YAML trees. Lists of named maps are matched by name
    (``containers[name=ray-worker]``), so inserting one item does not change every later index."""
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after), key=str):
            yield from field_changes(before.get(key, ABSENT), after.get(key, ABSENT), child_path(path, str(key)))
        return
    if isinstance(before, list) and isinstance(after, list):
        named_before, named_after = _named_items(before), _named_items(after)
        if named_before is not None and named_after is not None:
            for name in [*named_before, *(n for n in named_after if n not in named_before)]:
                yield from field_changes(named_before.get(name, ABSENT), named_after.get(name, ABSENT),
                                         f"{path}[name={name}]")
            return
        for index in range(max(len(before), len(after))):
            yield from field_changes(before[index] if index < len(before) else ABSENT,
                                     after[index] if index < len(after) else ABSENT, f"{path}[{index}]")
        return
    if before is ABSENT and isinstance(after, dict | list) and after:
        yield from field_changes({} if isinstance(after, dict) else [], after, path)
        return
    if after is ABSENT and isinstance(before, dict | list) and before:
        yield from field_changes(before, {} if isinstance(before, dict) else [], path)
        return
    if before != after:
        yield FieldChange(path, before, after)


_NAMED_VALUE = re.compile(r"\[name=([^\]]+)\]\.value$")


def _last_key(path: str) -> str:
    """The name a value goes by: its key, or for ``{name: X, value: V}`` items (env) X."""
    named = _NAMED_VALUE.search(path)
    if named:
        return named.group(1)
    tail = path.rsplit(".", 1)[-1]
    if tail.endswith('"]'):
        tail = tail.rsplit('["', 1)[-1][:-2]
    return tail.split("[", 1)[0]


def _redacted(kind: str, path: str, value: Any) -> Any:
    """Secret data, and any value shaped or named like a credential, through ``secrets.redact``."""
    if value is ABSENT or value is None or isinstance(value, bool | int | float):
        return value
    if kind == "Secret" and path.split(".", 1)[0].split("[", 1)[0] in {"data", "stringData"}:
        return redact(value)
    if isinstance(value, str) and detect(_last_key(path), value) is not None:
        return redact(value)
    return value


def object_change(before: KubeObject | None, after: KubeObject | None) -> ObjectChange | None:
    obj = after or before
    assert obj is not None
    if before is None or after is None:
        return ObjectChange(obj.kind, obj.namespace, obj.name, "added" if before is None else "removed")
    changes = [FieldChange(c.path, _redacted(obj.kind, c.path, c.before), _redacted(obj.kind, c.path, c.after))
               for c in field_changes(before.body, after.body)]
    if not changes:
        return None
    return ObjectChange(obj.kind, obj.namespace, obj.name, "changed", changes[:MAX_FIELDS_PER_OBJECT],
                        max(0, len(changes) - MAX_FIELDS_PER_OBJECT))


def _finding_delta(before: list[Finding], after: list[Finding]) -> tuple[list[Finding], list[Finding]]:
    old = {stable_key(f) for f in before}
    new = {stable_key(f) for f in after}
    return [f for f in after if stable_key(f) not in old], [f for f in before if stable_key(f) not in new]


def _region_objects(result: Result | None, name: str) -> tuple[list[KubeObject], bool] | None:
    if result is None:
        return None
    release = result.releases.get(name)
    if release is None:
        return None
    rendered = next((r.rendered for r in result.regions if r.name == name), True)
    return list(release.objects), rendered


def compare(base: Result | None, head: Result, base_label: str) -> FleetDiff:
    """Compare two ``validate_fleet`` results (``base`` None: the fleet file is new)."""
    diff = FleetDiff(base_label)
    base_names = list(base.releases if base else {})
    head_names = list(head.releases)
    for name in [*head_names, *(n for n in base_names if n not in head_names)]:
        old, new = _region_objects(base, name), _region_objects(head, name)
        region = RegionDiff(name, "changed")
        if old is None or new is None:
            region.status = "added" if old is None else "removed"
        else:
            if not old[1]:
                region.notes.append("did not render at the base: objects not compared")
            if not new[1]:
                region.notes.append("does not render with this change: objects not compared")
            if old[1] and new[1]:
                region.objects = _object_changes(old[0], new[0])
        region.new_findings, region.fixed_findings = _finding_delta(
            [f for f in base.findings if f.region == name] if base else [],
            [f for f in head.findings if f.region == name])
        if region.status == "changed" and not (region.objects or region.new_findings or region.fixed_findings
                                               or region.notes):
            region.status = "unchanged"
        diff.regions.append(region)
    diff.fleet_new_findings, diff.fleet_fixed_findings = _finding_delta(
        [f for f in base.findings if f.region is None] if base else [],
        [f for f in head.findings if f.region is None])
    return diff


def _object_changes(before: list[KubeObject], after: list[KubeObject]) -> list[ObjectChange]:
    old = {_object_key(o): o for o in before}
    new = {_object_key(o): o for o in after}
    changes = []
    for key in sorted(set(old) | set(new), key=lambda k: (k[1], k[2], k[3], k[0])):
        change = object_change(old.get(key), new.get(key))
        if change is not None:
            changes.append(change)
    return changes


# --- the whole command --------------------------------------------------------------------------

def diff_fleet(fleet: str | Path, *, base_ref: str | None = None, base_dir: str | Path | None = None,
               regions: Sequence[str] | None = None, crds: str | Path | None = None,
               engine: Engine | None = None) -> FleetDiff:
    """Render and check every region at the base and in the working tree, and compare them.

    The fleet file's place in the base is its path relative to the repository root (or, outside a
    repository, to the current folder)."""
    if (base_ref is None) == (base_dir is None):
        raise InputError("give the base as --base GITREF or --base-dir DIR (one of them)")
    fleet_path = Path(fleet)
    if not fleet_path.is_file():
        raise InputError("fleet file not found", file=str(fleet))
    head = validate_fleet(fleet_path, regions=regions, crds=crds, engine=engine)
    root = repository_root(fleet_path.resolve())
    if base_ref is not None:
        if root is None:
            raise InputError("--base needs the fleet file in a git repository (or use --base-dir)", file=str(fleet))
        with git_base(root, base_ref) as tree:
            return _against(tree / fleet_path.resolve().relative_to(root), head, base_ref, regions, crds, engine)
    folder = Path(base_dir)  # type: ignore[arg-type]
    if not folder.is_dir():
        raise InputError("--base-dir: folder not found", file=str(base_dir))
    anchor = root or Path.cwd().resolve()
    try:
        relative = fleet_path.resolve().relative_to(anchor)
    except ValueError:
        raise InputError(f"the fleet file is outside {anchor}: cannot place it in --base-dir",
                         file=str(fleet)) from None
    return _against(folder / relative, head, str(base_dir), regions, crds, engine)


def _against(base_fleet: Path, head: Result, label: str, regions: Sequence[str] | None,
             crds: str | Path | None, engine: Engine | None) -> FleetDiff:
    if not base_fleet.is_file():
        diff = compare(None, head, label)
        diff.notes.append("the fleet file does not exist at the base: every region is new")
        return diff
    head_names = set(head.releases)
    base_regions = None
    if regions:  # a region may not exist yet at the base: select only those it has
        known = {r.name for r in load_fleet(base_fleet).regions}
        base_regions = [r for r in regions if r in known] or None
        if base_regions is None:
            return compare(None, head, label)
    try:
        base = validate_fleet(base_fleet, regions=base_regions, crds=crds, engine=engine)
    except InputError as exc:
        raise InputError(f"at the base ({label}): {exc}") from None
    if regions:
        base.releases = {k: v for k, v in base.releases.items() if k in head_names or k in regions}
    return compare(base, head, label)
