"""The brief as a printable HTML page: one self-contained document (styles inline in a <style> element
the page's CSP allows by hash, charts as data: URIs), so it prints and saves as it is shown.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from reports.view import BriefView

TEMPLATES = Path(__file__).parent / "templates"
STYLE = (TEMPLATES / "brief.css").read_text(encoding="utf-8")
STYLE_HASH = "sha256-" + base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
# No script, no outside resource: images only from data: URIs, the one stylesheet by its hash.
CSP = (
    f"default-src 'none'; style-src '{STYLE_HASH}'; img-src data:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


def render_html(view: BriefView, *, alternate: str | None = None, alternate_label: str | None = None) -> str:
    """The page; ``alternate`` is a link to the same brief in the other language."""
    return (
        _environment()
        .get_template("brief.html")
        .render(view=view, style=STYLE, data_uri=data_uri, alternate=alternate, alternate_label=alternate_label)
    )
