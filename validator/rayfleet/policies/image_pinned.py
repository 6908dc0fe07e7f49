"""Images are pinned to a version, ideally a digest."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import ObjectRef, Severity, Violation
from ._helpers import every_container, parse_image, strip_variants
from .base import Policy, ReleaseObjects, Scope


def _images(release: ReleaseObjects) -> Iterator[tuple[ObjectRef, str, str, str]]:
    """(object ref, JSON path, image, who) for every container image, including the images KubeRay
    options blocks configure (autoscaler, history server collector)."""
    for site in every_container(release, configured=True):
        image = site.container.get("image")
        if isinstance(image, str) and image:
            yield site.obj.ref, f"{site.path}.image", image, site.who


def moving_tag(tag: str) -> bool:
    """A tag that names no version moves: ``nightly``, ``nightly-gpu``, ``alpine``, ``stable``.
    Build variants (-gpu, -py311, -cu121) are stripped first, so ``nightly-py311`` moves too."""
    return not any(ch.isdigit() for ch in strip_variants(tag))


def check(release: ReleaseObjects) -> Iterator[Violation]:
    for ref, path, image, who in _images(release):
        parsed = parse_image(image)
        if parsed.digest:
            continue
        if parsed.tag is None or parsed.tag == "latest":
            yield Violation(f"{who} uses image {image} with {'no tag' if parsed.tag is None else 'tag latest'}; "
                            "every pull may get a different image", obj=ref, path=path, value=image)
        elif moving_tag(parsed.tag):
            yield Violation(f"{who} uses image {image} with moving tag {parsed.tag} (no version number); every "
                            "pull may get a different image", obj=ref, path=path, value=image)
        else:
            yield Violation(f"{who} uses image {image} by tag only; a digest (@sha256:…) makes it immutable",
                            obj=ref, path=path, value=image, severity=Severity.INFO)


POLICY = Policy(
    id="image-pinned",
    title="Images are pinned to a version or digest",
    severity=Severity.ERROR,
    scope=Scope.RELEASE,
    rationale=(
        "An image without a tag or with latest changes under a running fleet: regions pull different "
        "images, Ray nodes of one cluster end up on different versions, and a rollback restores nothing. "
        "A version tag is the minimum: no tag, latest, and moving tags that name no version (nightly, "
        "nightly-gpu, alpine, stable: a tag without a digit once -gpu/-cpu/-cuXXX/-pyXXX are stripped) "
        "are errors; a digest makes the image immutable (a version tag alone is reported as info). Images "
        "KubeRay takes from the RayCluster spec (autoscalerOptions.image, the history server collector's "
        "image) are checked too."
    ),
    remediation="Pin every image to a version tag, preferably with its digest (image:tag@sha256:...).",
    references=(
        "https://kubernetes.io/docs/concepts/containers/images/#image-names",
        "https://kubernetes.io/docs/concepts/configuration/overview/#container-images",
    ),
    check=check,
)
