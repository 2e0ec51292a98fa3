"""Text from a spec or a plugin, made safe for the terminal.

A spec is data: its strings (choices, descriptions, expressions) must print as written, never
as Rich markup (``[link=...]``, ``[bold]``) and never as escape sequences that clear the screen,
move the cursor or rewrite what was printed before.
"""

from __future__ import annotations

import re
from typing import Any

from rich.text import Text

__all__ = ["visible", "plain"]

# C0 and C1 control characters (tab and newline kept), and the invisible formatting and
# direction overrides that make text read differently than it is
_HIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def visible(text: str) -> str:
    """``text`` with every control character written as its escape (``\\x1b``)."""
    return _HIDDEN.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), text)


def plain(value: Any) -> Text:
    """A Rich cell that shows ``value`` as written: no markup, no control characters."""
    return Text(visible(str(value)))
