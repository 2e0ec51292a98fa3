"""JSON that Avatar can use: the standard parser with the numbers and nesting a data or
predictions file can hold and Avatar can compute with.

JSON itself allows integers of thousands of digits (Python refuses to even print one past
4,300 digits), floats that overflow to infinity and nesting deep enough to exhaust the
interpreter's stack; each of these is refused here with a reason, so the reader can name the
file and line before anything is paid for.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["JsonProblem", "load_json_value", "MAX_INTEGER_DIGITS"]

MAX_INTEGER_DIGITS = 30  # ids and labels; a 64-bit integer has 20 digits


class JsonProblem(ValueError):
    """Why a JSON text cannot be used (the caller adds the file and line)."""


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise JsonProblem(f"an integer of {len(text.lstrip('-'))} digits (at most {MAX_INTEGER_DIGITS})")
    return int(text)


def _constant(name: str) -> float:
    raise JsonProblem(f"'{name}' is not a JSON number")


def load_json_value(text: str, *, non_finite: bool = False) -> Any:
    """``json.loads(text)``, refusing huge integers, ``NaN`` and ``Infinity`` (unless
    ``non_finite``: a caller that checks values itself, and can then name the record), and
    nesting deeper than the parser can follow.

    Raises:
        JsonProblem: saying what is wrong (a malformed text too: ``JSONDecodeError`` is a ``ValueError``,
            turned into a ``JsonProblem`` with its message).
    """
    try:
        return json.loads(text, parse_int=_integer, parse_constant=float if non_finite else _constant)
    except JsonProblem:
        raise
    except json.JSONDecodeError as error:
        raise JsonProblem(f"not a JSON line ({error.msg})") from None
    except RecursionError:
        raise JsonProblem("nested deeper than Avatar reads") from None
    except ValueError as error:
        raise JsonProblem(f"not usable JSON ({error})") from None
