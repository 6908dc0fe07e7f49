"""Images come from the registries the fleet allows."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Severity, Violation
from ._helpers import every_container, parse_image
from .base import Policy, ReleaseObjects, Scope


def _allowed(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + "/") for p in prefixes)


def check(release: ReleaseObjects) -> Iterator[Violation]:
    # Entries are host[/path] prefixes; compare at path boundaries, host without case.
    prefixes = tuple(
        (host.lower() + ("/" + rest if rest else "")).rstrip("/")
        for host, _, rest in (entry.strip().partition("/") for entry in release.settings.allowed_registries)
    )
    if not prefixes:
        return
    shown = ", ".join(release.settings.allowed_registries)
    for site in every_container(release, configured=True):
        image = site.container.get("image")
        if not isinstance(image, str) or not image:
            continue
        name = parse_image(image).name  # rayproject/ray -> docker.io/rayproject/ray
        if not _allowed(name, prefixes):
            yield Violation(f"{site.who} uses image {image} ({name}), which is not from an allowed registry "
                            f"({shown})", obj=site.obj.ref, path=f"{site.path}.image", value=image)


POLICY = Policy(
    id="image-registry-allowed",
    title="Images come from the allowed registries",
    severity=Severity.ERROR,
    scope=Scope.RELEASE,
    rationale=(
        "A fleet that mirrors its images (for example into Azure Container Registry) wants every region to "
        "pull from the mirror: public registries rate-limit, can disappear during a regional outage, and "
        "are outside the team's scanning. The allowlist is policy.allowedRegistries in the fleet file "
        "(host or host/path prefixes); Docker Hub short names such as rayproject/ray count as "
        "docker.io/rayproject/ray. Without an allowlist the policy checks nothing."
    ),
    remediation=(
        "Pull the image from an allowed registry (mirror it there), or add its registry to "
        "policy.allowedRegistries."
    ),
    references=(
        "https://kubernetes.io/docs/concepts/containers/images/#image-names",
        "https://learn.microsoft.com/azure/container-registry/container-registry-import-images",
    ),
    check=check,
)
