"""The hostile-input tests reuse the fake AKS clusters of tests/kube."""

from tests.kube.conftest import example, fake_aks, releases  # noqa: F401  (fixtures)
