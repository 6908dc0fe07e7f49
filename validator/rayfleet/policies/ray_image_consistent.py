"""One Ray version for the head and every worker group."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Severity, Violation
from ._helpers import is_release_version, ray_container, ray_version_of_image, where
from .base import Policy, ReleaseObjects, Scope


def check(release: ReleaseObjects) -> Iterator[Violation]:
    for obj in release.objects:
        head_version: str | None = None
        head_image = ""
        ray_version: str | None = None
        for tpl in release.templates_of(obj):
            if tpl.role not in ("head", "worker"):
                continue
            found = ray_container(tpl)
            image = found[0].get("image") if found else None
            if not found or not isinstance(image, str):
                continue
            version = ray_version_of_image(image)
            if tpl.role == "head":
                head_version, head_image = version, image
                declared = tpl.ray.spec.get("rayVersion") if tpl.ray else None
                ray_version = str(declared) if declared else None
                if ray_version and is_release_version(version) and ray_version.lstrip("v") != version:
                    yield Violation(f"{where(tpl)} runs image {image} (Ray {version}) but spec.rayVersion is "
                                    f"{ray_version}", obj=obj.ref, path=f"{found[1]}.image", value=image)
            elif head_version and version and version != head_version:
                yield Violation(f"{where(tpl)} runs image {image} (Ray {version}) but the head runs "
                                f"{head_image} (Ray {head_version})", obj=obj.ref, path=f"{found[1]}.image",
                                value=image)


POLICY = Policy(
    id="ray-image-consistent",
    title="The head and every worker group run the same Ray version",
    severity=Severity.ERROR,
    scope=Scope.RELEASE,
    rationale=(
        "Ray nodes of different versions cannot join one cluster: workers fail to connect to the head's GCS "
        "or fail on pickled objects. The version is read from the image tag (2.52.0 in "
        "rayproject/ray:2.52.0-py311-gpu), so CPU and GPU variants of one release are fine (-gpu, -cpu, "
        "-cuXXX and -pyXXX are stripped: nightly and nightly-gpu are one build). Only Ray's images "
        "(rayproject/ray, ray-ml, ray-llm and their mirrors) and tags that say rayX.Y.Z are read: other "
        "images' version numbers are not Ray's. spec.rayVersion must match a release tag too, since the "
        "autoscaler uses it."
    ),
    remediation="Use images of one Ray version for the head and all worker groups, and set spec.rayVersion to it.",
    references=(
        "https://docs.ray.io/en/latest/cluster/kubernetes/user-guides/config.html",
        "https://docs.ray.io/en/latest/cluster/kubernetes/user-guides/gpu.html",
    ),
    check=check,
)
