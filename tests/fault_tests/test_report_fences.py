"""report.md cannot be broken out of: the spec's text sits in a fence longer than any run of
backticks in it, so a CommonMark renderer (report.html's) shows no live HTML from a spec."""

from __future__ import annotations

import dataclasses

import pytest
from markdown_it import MarkdownIt

from avatar.solver.report._markdown import fenced, header_section, inline_code
from avatar.specs import loads
from tests.helpers import SEARCH_SPACE

HOSTILE = [
    "```\n<img src=x onerror=alert(1)>\n```",
    "````\n<script>alert(1)</script>",
    "~~~\n<b>bold</b>\n~~~",
    "`` ` ``` `````` <i>x</i>",
    "a\n\n```yaml\n</details><script>alert(2)</script>",
]


def _rendered(markdown: str) -> str:
    return MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown)  # as report.html renders it


@pytest.mark.parametrize("text", HOSTILE)
def test_no_text_ends_its_fence(text):
    html = _rendered(fenced(text, "yaml") + "\n\nafter")
    assert "<script" not in html and "<img" not in html and "<b>" not in html and "<i>" not in html
    assert "<p>after</p>" in html
    assert html.count("<pre>") == 1


@pytest.mark.parametrize("text", HOSTILE)
def test_inline_code_keeps_its_text(text):
    one_line = text.replace("\n", " ")
    html = _rendered(f"path {inline_code(one_line)} end")
    assert "<script" not in html and "<img" not in html and "<b>" not in html and "<i>" not in html


@pytest.mark.parametrize("text", HOSTILE)
def test_a_hostile_description_shows_as_text_in_the_report(text):
    spec = dataclasses.replace(loads(SEARCH_SPACE), description=text)
    html = _rendered(header_section(spec, None))
    assert "<script" not in html and "<img" not in html and "<b>" not in html and "<i>" not in html
    assert html.count("<details>") == 1 and "</details>" in html
