"""The ``solve`` command: a thin shell over library calls that picks the exit code.

Exit codes: 0 done, 1 internal error (a bug), 2 invalid spec, 3 infeasible spec,
130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from typing import Sequence

from rich.console import Console

from avatar import objectives
from avatar.specs import SpecError, load

from ._space import Space
from ._summary import check_report, infeasible_message, render_check_report

__all__ = ["main", "build_parser", "EXIT_OK", "EXIT_INTERNAL", "EXIT_INVALID", "EXIT_INFEASIBLE", "EXIT_INTERRUPTED"]

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_INVALID = 2
EXIT_INFEASIBLE = 3
EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="solve",
        description="Validate an Avatar spec, compile its feasible space, search it, and distill the chosen students.",
        epilog="Exit codes: 0 done, 1 internal error, 2 invalid spec, 3 infeasible spec, 130 interrupted.",
    )
    parser.add_argument("spec", help="spec file (.yaml, .yml or .json)")
    parser.add_argument("--check", action="store_true", help="validate the spec and summarise its space, then stop")
    parser.add_argument("--out", metavar="DIR", help="run directory (default: runs/<spec name>)")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of tables")
    verbosity = parser.add_mutually_exclusive_group()
    verbosity.add_argument("-q", "--quiet", action="store_true", help="print only errors and the final line")
    verbosity.add_argument("-v", "--verbose", action="store_true", help="show tracebacks of internal errors")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``solve``; returns the exit code."""
    arguments = build_parser().parse_args(argv)
    console = Console(quiet=arguments.quiet or arguments.json, highlight=False)
    errors = Console(stderr=True, highlight=False)
    try:
        return _run(arguments, console, errors)
    except SpecError as error:
        for problem in error.problems:
            errors.print(str(problem), markup=False, soft_wrap=True)
        count = len(error.problems)
        errors.print(f"{arguments.spec}: {count} problem{'s' if count != 1 else ''}; the spec is invalid", markup=False, soft_wrap=True)
        return EXIT_INVALID
    except KeyboardInterrupt:
        errors.print("interrupted")
        return EXIT_INTERRUPTED
    except Exception as error:  # noqa: BLE001 - the one place that turns bugs into exit code 1
        if arguments.verbose:
            errors.print(traceback.format_exc(), markup=False)
        errors.print(
            f"internal error: {type(error).__name__}: {error}\n"
            "This is a bug in Avatar, not in your spec. Please report it on the Avatar issue tracker "
            "with the spec and the output of the same command run with -v.",
            markup=False,
            soft_wrap=True,
        )
        return EXIT_INTERNAL


def _run(arguments: argparse.Namespace, console: Console, errors: Console) -> int:
    spec = load(arguments.spec)
    objectives.validate(spec)
    space = Space.from_spec(spec)
    report = check_report(spec, space)
    if arguments.json:
        print(json.dumps(report, indent=2))
    else:
        render_check_report(report, console)
    if report["feasible"] is False:
        errors.print(infeasible_message(report), markup=False, soft_wrap=True)
        return EXIT_INFEASIBLE
    console.print(f"[green]✓[/green] {arguments.spec} is valid and feasible")
    if not arguments.check:
        console.print("Search and training are not part of this version yet; the spec and its space were checked.")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
