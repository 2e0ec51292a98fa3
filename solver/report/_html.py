"""``report.html``: the same content as ``report.md``, as one self-contained page.

The Markdown is rendered with markdown-it-py (already installed with rich), tables enabled;
every image the report links is embedded as a data URI, so the file can be mailed or attached
to a ticket and still shows its plots. Rewritten whenever ``report.md`` changes.
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

from avatar.specs import RunDirectory

__all__ = ["write_html_report"]

_STYLE = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 1200px; padding: 0 1rem; color: #1b1f24; }
h1 { border-bottom: 2px solid #d0d7de; padding-bottom: .3rem; }
h2 { border-bottom: 1px solid #d0d7de; padding-bottom: .2rem; margin-top: 2rem; }
table { border-collapse: collapse; margin: 1rem 0; font-size: 13px; display: block; overflow-x: auto; }
th, td { border: 1px solid #d0d7de; padding: 4px 8px; text-align: right; white-space: nowrap; }
th { background: #f6f8fa; white-space: normal; vertical-align: bottom; }  /* long headers wrap, so wide tables fit 1,280 px; numbers never break */
tr:nth-child(even) td { background: #fbfcfd; }
code { background: #f6f8fa; padding: 0 3px; border-radius: 3px; font-size: 12px; }
img { max-width: 100%; border: 1px solid #d0d7de; }
details { margin: 1rem 0; }
"""


def _embed_images(body: str, directory: Path) -> str:
    def replace(match: re.Match[str]) -> str:
        source = html.unescape(match.group(2))
        path = directory / source
        if "://" in source or source.startswith("data:") or not path.is_file():
            return match.group(0)
        encoded = base64.b64encode(path.read_bytes()).decode()
        return f'{match.group(1)}data:image/png;base64,{encoded}"'

    return re.sub(r'(<img[^>]*?src=")([^"]+)"', replace, body)


def write_html_report(run: RunDirectory) -> Path | None:
    """Render the run's ``report.md`` into its ``report.html``; returns its path."""
    from markdown_it import MarkdownIt

    source, directory = run.report_md, run.path
    if not source.exists():
        return None
    text = source.read_text()
    renderer = MarkdownIt("commonmark", {"html": True}).enable("table")
    body = _embed_images(renderer.render(text), directory)
    title = text.splitlines()[0].lstrip("# ").strip() if text else "Avatar run"
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>{_STYLE}</style>
</head>
<body>
{body}
</body>
</html>
"""
    target = run.report_html
    target.write_text(page)
    return target
