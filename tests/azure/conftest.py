"""The fake Azure every live identity/storage test shares (defined with the identity tests)."""

from tests.azure.test_identity_live import azure  # noqa: F401 - re-exported as a fixture
