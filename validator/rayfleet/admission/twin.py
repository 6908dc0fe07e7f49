"""What an admission twin is: the CEL form of one release policy, ready to become a
ValidatingAdmissionPolicy (``admissionregistration.k8s.io/v1``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..findings import Severity


@dataclass(frozen=True)
class Kind:
    """An API kind a twin matches, with the REST resource the API server matches on."""

    kind: str
    group: str  # "" for the core group
    versions: tuple[str, ...]
    resource: str

    @property
    def api_versions(self) -> tuple[str, ...]:
        return tuple(f"{self.group}/{v}" if self.group else v for v in self.versions)


@dataclass(frozen=True)
class Variable:
    """A VAP variable. ``setting`` names a policy setting whose CEL literal replaces the
    expression (``allowedRegistries`` or ``gpuTaint``), baked in by the export or by the chart."""

    name: str
    expression: str = ""
    setting: str | None = None


@dataclass(frozen=True)
class Validation:
    expression: str
    message: str


@dataclass(frozen=True)
class Twin:
    """The CEL twin of policy ``policy``.

    ``severity`` overrides the policy's (a twin may carry only the part of a policy that has
    one severity, e.g. the Delete case of blob-reclaim-retain); ``suffix`` names the extra
    VAPs of a policy split that way. ``warn_without`` names a setting whose absence turns the
    twin into a warning, as the Python check does (gpu-taint-toleration without gpuTaint).
    ``weaker`` says in one sentence what the Python check catches that the twin does not;
    ``cost`` is the documented worst-case estimate (see docs/policies.md).
    """

    policy: str
    kinds: tuple[Kind, ...]
    validations: tuple[Validation, ...]
    cost: str
    variables: tuple[Variable, ...] = ()
    match_conditions: tuple[tuple[str, str], ...] = ()
    severity: Severity | None = None
    suffix: str = ""
    warn_without: str | None = None
    weaker: str = ""
    settings: tuple[str, ...] = field(default=())

    @property
    def name(self) -> str:
        return f"rayfleet-{self.policy}" + (f"-{self.suffix}" if self.suffix else "")
