"""The one module allowed to mark HTML safe.

User content (case bodies, replies, articles) is Markdown. :func:`render_markdown` renders it
with raw HTML switched off, so ``<script>`` typed by a user shows as text, then passes the
result through Ammonia (``nh3``) with a small allowlist as a second, independent layer:

* elements: p, br, strong, em, code, pre, blockquote, ul, ol, li, a, h1–h4, hr, table, thead,
  tbody, tr, th, td; anything else is dropped and its text kept (script and style: dropped with
  their content);
* attributes: ``href`` and ``title`` on links, nothing else (no ``style``, no ``on*``);
* link targets: http, https, mailto or relative; every link gets
  ``rel="noopener noreferrer nofollow"``;
* no images: ``![alt](url)`` is not image syntax here, so a message never makes the
  reader's browser fetch a remote URL;
* bidirectional-override characters are removed, so ``\\u202e`` cannot reverse what a
  reader sees.

Everything else in templates stays autoescaped; no other module calls ``mark_safe`` or uses
``|safe``.
"""

from __future__ import annotations

import re
import unicodedata

import markdown
import nh3
from django.utils.safestring import SafeString, mark_safe

__all__ = ["clean_line", "render_markdown", "strip_invisible_controls"]

ALLOWED_TAGS = frozenset(
    {
        "p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "a",
        "h1", "h2", "h3", "h4", "hr", "table", "thead", "tbody", "tr", "th", "td",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
ALLOWED_URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "noopener noreferrer nofollow"

# Bidi embeddings, overrides and isolates, plus the invisible "marks": they reorder or hide
# what a reader sees (a file "invoice\u202efdp.exe" displays as "invoiceexe.pdf").
_BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
# Zero-width characters without a job in running text. ZWJ and ZWNJ (U+200D, U+200C) are kept
# in bodies: emoji sequences and Persian or Indic spelling need them.
_ZERO_WIDTH = "\u200b\u2060\ufeff\u180e"
_INVISIBLE = re.compile(f"[{_BIDI_CONTROLS}{_ZERO_WIDTH}]")


class _NoRawHtml(markdown.Extension):
    """Raw HTML and image syntax are not Markdown here: they render as the text typed."""

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        md.preprocessors.deregister("html_block")
        for pattern in ("html", "image_link", "image_reference", "short_image_ref"):
            md.inlinePatterns.deregister(pattern)


def _markdown() -> markdown.Markdown:
    # A Markdown instance keeps state between conversions (references, stash): one per call.
    return markdown.Markdown(
        extensions=["tables", "fenced_code", "sane_lists", "nl2br", _NoRawHtml()],
        output_format="html",
    )


def strip_invisible_controls(text: str) -> str:
    """``text`` without bidi controls and zero-width characters (ZWJ and ZWNJ are kept)."""
    return _INVISIBLE.sub("", text)


def clean_line(text: str, *, max_length: int | None = None) -> str:
    """A single display line (subject, name) from untrusted text, still to be autoescaped.

    Removes control characters (line breaks included), bidi controls and zero-width
    characters, collapses runs of whitespace and trims, then cuts to ``max_length``
    characters. Returns plain text, not HTML.
    """
    kept = (
        " " if unicodedata.category(char) in ("Cc", "Zl", "Zp") else char
        for char in strip_invisible_controls(text)
    )
    line = " ".join("".join(kept).split())
    return line[:max_length] if max_length is not None else line


def render_markdown(text: str) -> SafeString:
    """Untrusted Markdown → HTML that is safe to insert into a page (see the module policy)."""
    rendered = _markdown().convert(strip_invisible_controls(text))
    cleaned = nh3.clean(
        rendered,
        tags=set(ALLOWED_TAGS),
        clean_content_tags={"script", "style"},
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(ALLOWED_URL_SCHEMES),
        link_rel=LINK_REL,
        strip_comments=True,
    )
    return mark_safe(cleaned)  # noqa: S308 (this is the sanitizer: the output is cleaned)
