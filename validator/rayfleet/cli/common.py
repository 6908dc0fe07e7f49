"""What every CLI command shares: report options, one-line errors, exit codes."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, NoReturn

import click

from ..errors import EngineError, InputError, LiveCheckError, RayfleetError
from ..findings import Severity
from ..report import FORMATS, format_report
from ..report_paths import check_report_path, write_report
from ..result import Result

# Re-exported: the commands take exit codes and the one-line error from here.
from .process import EXIT_FINDINGS as EXIT_FINDINGS
from .process import EXIT_OK as EXIT_OK
from .process import EXIT_USAGE as EXIT_USAGE
from .process import configure_client_logging as configure_client_logging
from .process import fail


def handle_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn rayfleet's own errors (and the few OS errors a user can cause) into exit 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (InputError, EngineError, LiveCheckError, RayfleetError) as exc:
            fail(str(exc))
        except KeyboardInterrupt:
            fail("interrupted")
        except OSError as exc:  # e.g. a report path in a folder that does not exist
            fail(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": "))

    return wrapper


def parse_report_spec(spec: str) -> tuple[str, str | None]:
    """``sarif=out.sarif`` → ("sarif", "out.sarif"); ``text`` → ("text", None) meaning stdout."""
    name, _, path = spec.partition("=")
    if name not in FORMATS:
        raise click.BadParameter(f"unknown format {name!r}; choose from {', '.join(FORMATS)}",
                                 param_hint="--report")
    return name, path or None


def report_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--report (repeatable), --fail-on, --color/--no-color."""
    func = click.option("--color/--no-color", default=None,
                        help="Colour in text output (default: when stdout is a terminal).")(func)
    func = click.option("--fail-on", type=click.Choice([s.value for s in Severity]), default="error",
                        show_default=True, help="Exit 1 when an unwaived finding is at or above this severity.")(func)
    func = click.option("--report", "reports", multiple=True, metavar="FORMAT[=PATH]",
                        help="Report format and where to write it (stdout when no PATH); repeatable. "
                             "Formats: text, json, sarif, junit, markdown.")(func)
    return func


def azure_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--arm-endpoint and --timeout, for the commands that call Azure Resource Manager."""
    func = click.option("--timeout", type=click.FloatRange(min=1), default=30.0, show_default=True,
                        help="Seconds to wait for each Azure call.")(func)
    func = click.option("--arm-endpoint", metavar="URL", default=None,
                        help="Azure Resource Manager URL (default: the fleet's cloud), e.g. a private endpoint.")(func)
    return func


def check_reports(reports: Iterable[str], inputs: Iterable[str | Path | None]) -> list[tuple[str, str | None]]:
    """The parsed --report specs, once every path is known to be safe to write: its folder exists,
    and it is not an input of the run, inside the chart or a symlink (``rayfleet.report_paths``)."""
    specs = [parse_report_spec(r) for r in reports]
    known = list(inputs)
    for _, path in specs:
        if path is None:
            continue
        target = Path(path)
        if not target.parent.exists():
            fail(f"{path}: folder {target.parent} does not exist")
        check_report_path(path, known)
    return specs


def finish(result: Result, reports: tuple[str, ...], fail_on: str, color: bool | None, *,
           inputs: Iterable[str | Path | None]) -> NoReturn:
    """Write every requested report, then exit 0 or 1 by ``fail_on``. ``inputs`` are the files and
    folders the run read; no report may be written over or into them."""
    specs = check_reports(reports, inputs) or [("text", None)]
    to_stdout = [s for s in specs if s[1] is None]
    if len(to_stdout) > 1:
        fail("only one --report may go to stdout; give the others a path (FORMAT=PATH)")
    use_color = sys.stdout.isatty() if color is None else color
    for name, path in specs:
        text = format_report(name, result, color=use_color and path is None)
        if path is None:
            click.echo(text, nl=not text.endswith("\n"))
        else:
            write_report(path, text)
    sys.exit(result.exit_code(Severity(fail_on)))
