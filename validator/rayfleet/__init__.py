"""rayfleet: render every region's Helm release of Ray on AKS and check it before it ships.

The public API is what this module exports; everything else may change.

    >>> import rayfleet
    >>> result = rayfleet.validate_fleet("examples/fleet.yaml")
    >>> result.exit_code(rayfleet.Severity.ERROR)
"""

import importlib as _importlib
import typing as _typing

from ._version import __version__

if _typing.TYPE_CHECKING:
    from .errors import EngineError, InputError, LiveCheckError, RayfleetError
    from .findings import Finding, ObjectRef, Severity, SourceLocation, Suppression
    from .fleet import Fleet, Region, load_fleet
    from .pipeline import RegionRender, render_fleet, render_region, scan_manifests, validate_fleet
    from .plan import helm_command
    from .policies import ALL_POLICIES, Policy
    from .report import FORMATS, format_report
    from .result import Result

# Public name -> the module that defines it. Imported on first use, so ``import rayfleet`` (and the
# CLI's start-up) does not load Helm's engine, jsonschema or the policy catalogue until needed.
_EXPORTS = {
    **dict.fromkeys(("EngineError", "InputError", "LiveCheckError", "RayfleetError"), "errors"),
    **dict.fromkeys(("Finding", "ObjectRef", "Severity", "SourceLocation", "Suppression"), "findings"),
    **dict.fromkeys(("Fleet", "Region", "load_fleet"), "fleet"),
    **dict.fromkeys(("RegionRender", "render_fleet", "render_region", "scan_manifests", "validate_fleet"),
                    "pipeline"),
    "helm_command": "plan",
    **dict.fromkeys(("ALL_POLICIES", "Policy"), "policies"),
    **dict.fromkeys(("FORMATS", "format_report"), "report"),
    "Result": "result",
}


def __getattr__(name: str) -> _typing.Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(_importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS} - {"_importlib", "_typing"})


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
