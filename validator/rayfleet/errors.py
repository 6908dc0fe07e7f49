"""The exceptions rayfleet raises. Everything a user can cause is an ``InputError`` (exit 2)."""

from __future__ import annotations

from .secrets import redact_text


class RayfleetError(Exception):
    """Base class of every error rayfleet raises on purpose."""


class InputError(RayfleetError):
    """Bad input: a file that is missing, malformed, hostile or of the wrong shape.

    ``str()`` is one line naming the file and, where known, the line and field.
    """

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 field: str | None = None) -> None:
        self.message = redact_text(message)  # messages quote user values; never a credential
        self.file = file
        self.line = line
        self.field = field
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.file or ""
        if where and self.line is not None:
            where += f":{self.line}"
        parts = [p for p in (where, self.field) if p]
        prefix = ": ".join(parts)
        return f"{prefix}: {self.message}" if prefix else self.message


class EngineError(RayfleetError):
    """The rendering engine could not run (no helm binary, a chart the engine cannot load)."""


class LiveCheckError(RayfleetError):
    """A live call to Azure or Kubernetes failed; names the region and the cause."""

    def __init__(self, region: str, cause: str, *, status: int | None = None) -> None:
        self.region = region
        self.cause = redact_text(cause)
        self.status = status  # the HTTP status when the server answered (401, 403, ...), else None
        super().__init__(f"region {region}: {self.cause}")
