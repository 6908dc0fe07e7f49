"""rayfleet: render every region's Helm release of Ray on AKS and check it before it ships.

The public API is what this module exports; everything else may change.

    >>> import rayfleet
    >>> result = rayfleet.validate_fleet("examples/fleet.yaml")
    >>> result.exit_code(rayfleet.Severity.ERROR)
"""

from ._version import __version__
from .errors import EngineError, InputError, LiveCheckError, RayfleetError
from .findings import Finding, ObjectRef, Severity, SourceLocation, Suppression
from .fleet import Fleet, Region, load_fleet
from .pipeline import RegionRender, render_fleet, render_region, scan_manifests, validate_fleet
from .plan import helm_command
from .policies import ALL_POLICIES, Policy
from .report import FORMATS, format_report
from .result import Result

__all__ = [
    "ALL_POLICIES",
    "FORMATS",
    "EngineError",
    "Finding",
    "Fleet",
    "InputError",
    "LiveCheckError",
    "ObjectRef",
    "Policy",
    "RayfleetError",
    "Region",
    "RegionRender",
    "Result",
    "Severity",
    "SourceLocation",
    "Suppression",
    "__version__",
    "format_report",
    "helm_command",
    "load_fleet",
    "render_fleet",
    "render_region",
    "scan_manifests",
    "validate_fleet",
]
