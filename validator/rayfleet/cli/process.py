"""What the ``rayfleet`` process does at its edges: exit codes, the one-line error, the client
libraries' logging. Light on purpose: ``rayfleet --version`` and ``--help`` import it."""

from __future__ import annotations

import logging
import sys
from typing import NoReturn

import click

from ..secrets import redact_text

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


def fail(message: str) -> NoReturn:
    """One line on stderr, exit 2: bad input or usage, never a traceback."""
    click.echo(f"rayfleet: error: {redact_text(message)}", err=True)
    sys.exit(EXIT_USAGE)


# Client libraries that log on their own (azure-identity prints Entra's whole answer at WARNING,
# urllib3 its retries): quiet unless --verbose, so an error is rayfleet's one line.
CLIENT_LOGGERS = ("azure", "msal", "urllib3", "kubernetes")


class _RayfleetLogHandler(logging.StreamHandler):
    """The handler --verbose installs (and the next run removes)."""


def configure_client_logging(verbose: bool) -> None:
    """Route the client libraries' log records to stderr (``verbose``) or nowhere."""
    for name in CLIENT_LOGGERS:
        logger = logging.getLogger(name)
        for handler in [h for h in logger.handlers if isinstance(h, _RayfleetLogHandler | logging.NullHandler)]:
            logger.removeHandler(handler)
        if verbose:
            handler = _RayfleetLogHandler(sys.stderr)
            handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
            logger.addHandler(handler)
            logger.setLevel(logging.INFO)
        else:
            logger.addHandler(logging.NullHandler())  # a handler, so Python's last-resort one stays out
        logger.propagate = False


__all__ = ["CLIENT_LOGGERS", "EXIT_FINDINGS", "EXIT_OK", "EXIT_USAGE", "configure_client_logging", "fail"]
