"""No Anyscale CLI token anywhere: not in the operator's values, no Secret, no environment variable."""

from __future__ import annotations

from collections.abc import Iterator

from ..anyscale import CLI_TOKEN_ENV, CLI_TOKEN_SECRET, CLI_TOKEN_VALUE
from ..findings import Severity, Violation
from ._anyscale import dotted, value_source
from ._helpers import as_dict, as_list, container_label, where
from .base import Policy, ReleaseObjects, Scope


def check(release: ReleaseObjects) -> Iterator[Violation]:
    rendered = release.anyscale
    if rendered is not None and rendered.value(CLI_TOKEN_VALUE):
        yield Violation(f"the Anyscale operator's values set {dotted(CLI_TOKEN_VALUE)}: a static CLI token "
                        "(it expires every 30 days and sits in a Secret)", path=dotted(CLI_TOKEN_VALUE),
                        source=value_source(release, CLI_TOKEN_VALUE))
    for obj in release.of_kind("Secret"):
        if obj.name == CLI_TOKEN_SECRET:
            yield Violation(f"Secret {CLI_TOKEN_SECRET!r} holds an Anyscale CLI token", obj=obj.ref,
                            path="metadata.name")
    for tpl in release.pod_templates():
        for container, path in tpl.containers():
            for index, entry in enumerate(as_list(container.get("env"))):
                if as_dict(entry).get("name") == CLI_TOKEN_ENV:
                    yield Violation(f"{container_label(container)} in {where(tpl)} sets {CLI_TOKEN_ENV}",
                                    obj=tpl.obj.ref, path=f"{path}.env[{index}]")


POLICY = Policy(
    id="anyscale-no-cli-token",
    title="No Anyscale CLI token: the operator authenticates with workload identity",
    severity=Severity.ERROR,
    scope=Scope.RELEASE,
    rationale=(
        "The anyscale-operator chart creates a Secret anyscale-cli-token and sets ANYSCALE_CLI_TOKEN in the "
        "operator whenever global.auth.anyscaleCliToken is set (its README still calls it required on Azure). "
        "That token is a long-lived credential in the cluster that expires every 30 days; on Azure the operator "
        "can instead run under a user-assigned managed identity (global.auth.iamIdentity) and fetch short-lived "
        "Entra ID tokens for the Anyscale audience through the workload identity proxy sidecar."
    ),
    remediation=(
        "Remove global.auth.anyscaleCliToken from the operator's values files, delete any anyscale-cli-token "
        "Secret and ANYSCALE_CLI_TOKEN variable, and set global.auth.iamIdentity and global.auth.audience."
    ),
    references=(
        "https://docs.anyscale.com/clouds/kubernetes/helm-ref",
        "https://azure.github.io/azure-workload-identity/docs/topics/service-account-labels-and-annotations.html",
    ),
    check=check,
)
