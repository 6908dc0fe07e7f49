"""The Anyscale operator's global.auth.audience is set."""

from __future__ import annotations

from collections.abc import Iterator

from ..anyscale import AUDIENCE_VALUE
from ..findings import Severity, Violation
from ._anyscale import dotted, value_source
from .base import Policy, ReleaseObjects, Scope


def check(release: ReleaseObjects) -> Iterator[Violation]:
    rendered = release.anyscale
    if rendered is None:
        return
    value = rendered.value(AUDIENCE_VALUE)
    if not isinstance(value, str) or not value.strip():
        yield Violation(f"the Anyscale operator's {dotted(AUDIENCE_VALUE)} is not set: it cannot request Entra ID "
                        "tokens for the Anyscale control plane", path=dotted(AUDIENCE_VALUE),
                        source=value_source(release, AUDIENCE_VALUE))


POLICY = Policy(
    id="anyscale-audience",
    title="The Anyscale operator's auth audience is set",
    severity=Severity.ERROR,
    scope=Scope.RELEASE,
    rationale=(
        "Without a CLI token the operator authenticates to the Anyscale control plane with an Entra ID token "
        "for the audience in global.auth.audience (passed as --auth-audience). The chart documents it as "
        "required on Azure; left empty, the operator has nothing to request a token for."
    ),
    remediation="Set global.auth.audience in the operator's values to the audience Anyscale gives for your cloud (api://<id>/.default).",
    references=("https://docs.anyscale.com/clouds/kubernetes/helm-ref",),
    check=check,
    needs_fleet=True,
)
