"""Images are pinned to a version, ideally a digest."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import ObjectRef, Severity, Violation
from ..workloads import ray_cluster_specs
from ._helpers import as_dict, container_images, container_label, parse_image, where
from .base import Policy, ReleaseObjects, Scope


def _images(release: ReleaseObjects) -> Iterator[tuple[ObjectRef, str, str, str]]:
    """(object ref, JSON path, image, who) for every container image and Ray autoscaler image."""
    for tpl in release.pod_templates():
        for container, path, image in container_images(tpl):
            yield tpl.obj.ref, path, image, f"{container_label(container)} in {where(tpl)}"
    for obj in release.objects:
        for ray in ray_cluster_specs(obj):
            image = as_dict(ray.spec.get("autoscalerOptions")).get("image")
            if isinstance(image, str) and image:
                who = f"the autoscaler of {obj.kind} {obj.name!r}"
                yield obj.ref, f"{ray.path}.autoscalerOptions.image", image, who


def check(release: ReleaseObjects) -> Iterator[Violation]:
    for ref, path, image, who in _images(release):
        parsed = parse_image(image)
        if parsed.digest:
            continue
        if parsed.tag is None or parsed.tag == "latest":
            yield Violation(f"{who} uses image {image} with {'no tag' if parsed.tag is None else 'tag latest'}; "
                            "every pull may get a different image", obj=ref, path=path, value=image)
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
        "A tag is the minimum (no tag or latest is an error); a digest makes the image immutable (a tag "
        "alone is reported as info). Ray autoscaler images are checked too."
    ),
    remediation="Pin every image to a version tag, preferably with its digest (image:tag@sha256:...).",
    references=(
        "https://kubernetes.io/docs/concepts/containers/images/#image-names",
        "https://kubernetes.io/docs/concepts/configuration/overview/#container-images",
    ),
    check=check,
)
