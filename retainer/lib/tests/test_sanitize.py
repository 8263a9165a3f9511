"""The Markdown sanitizer renders useful formatting and nothing active."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.template import Context, Template
from django.utils.safestring import SafeString
from hypothesis import given, settings
from hypothesis import strategies as st

from retainer.lib.sanitize import LINK_REL, clean_line, render_markdown
from retainer.lib.tests.hostile import FILENAMES, PAYLOADS, active_content, url_scheme


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[dict[str, str | None]] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        if tag == "a":
            self.links.append(dict(attrs))


def parse(html: str) -> _Links:
    parser = _Links()
    parser.feed(html)
    return parser


@pytest.mark.parametrize("payload", PAYLOADS)
def test_hostile_markdown_renders_inert(payload: str) -> None:
    html = render_markdown(payload)
    assert active_content(html) == []
    for link in parse(html).links:
        href = link.get("href")
        assert href is None or url_scheme(href) in (None, "http", "https", "mailto")
        assert link["rel"] == LINK_REL


@pytest.mark.parametrize("payload", PAYLOADS + FILENAMES)
def test_hostile_text_inside_ordinary_markdown_renders_inert(payload: str) -> None:
    html = render_markdown(f"# Re: {payload}\n\n> {payload}\n\n- {payload}\n\n**{payload}**")
    assert active_content(html) == []


def test_the_check_itself_catches_active_content() -> None:
    # Guards the guard: a test that can never fail proves nothing.
    assert active_content("<script>alert(1)</script>") == ["<script> element"]
    assert active_content('<a href=" JaVa\tScript:alert(1)">x</a>')
    assert active_content('<a href="&#106;avascript:alert(1)">x</a>')
    assert active_content("<p onclick=x>y</p>")
    assert active_content("<p>a\u202eb</p>")
    assert active_content('<a href="https://ok.test/">x</a>') == []


def test_raw_html_is_shown_as_text_not_dropped() -> None:
    html = render_markdown("Use <b>bold</b> and <script>x()</script> please")
    assert "&lt;b&gt;bold&lt;/b&gt;" in html
    assert "&lt;script&gt;x()&lt;/script&gt;" in html


def test_ordinary_formatting_survives() -> None:
    html = render_markdown(
        "# Title\n\n**strong** *em* `code`\nnext line\n\n"
        "> quoted\n\n1. one\n2. two\n\n- a\n- b\n\n---\n\n"
        "| h |\n|---|\n| c |\n\n```\nblock\n```\n\n"
        '[docs](https://docs.test/a?b=1 "Docs") [case](/cases/1/) <help@vendor.test>'
    )
    tags = parse(html).tags
    assert {"h1", "strong", "em", "code", "br", "blockquote", "ol", "ul", "li", "hr"} <= tags
    assert {"table", "thead", "tbody", "tr", "th", "td", "pre", "a"} <= tags
    hrefs = [link["href"] for link in parse(html).links]
    assert hrefs[0] == "https://docs.test/a?b=1"
    assert hrefs[1] == "/cases/1/"
    assert hrefs[2] is not None and hrefs[2].startswith("mailto:")
    assert parse(html).links[0]["title"] == "Docs"


def test_images_are_not_rendered() -> None:
    html = render_markdown("![tracker](https://evil.test/pixel.png)")
    assert "<img" not in html
    assert "https://evil.test/pixel.png" in html  # shown as typed, never fetched


def test_the_output_is_marked_safe() -> None:
    assert isinstance(render_markdown("x"), SafeString)


def test_the_template_filter_renders_through_the_sanitizer() -> None:
    template = Template("{% load retainer_text %}<div>{{ body|markdown }}</div>")
    html = template.render(Context({"body": "**hi** <script>alert(1)</script>"}))
    assert "<strong>hi</strong>" in html
    assert active_content(html) == []
    assert Template("{% load retainer_text %}{{ none|markdown }}").render(
        Context({"none": None})
    ) == ("")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Invoice \u202efdp.exe", "Invoice fdp.exe"),
        ("  two\n lines\r\n\tand\x00 nul ", "two lines and nul"),
        ("pay\u200bpal", "paypal"),
        ("emoji 👩\u200d💻 keeps its joiner", "emoji 👩\u200d💻 keeps its joiner"),
    ],
)
def test_clean_line_makes_one_visible_line(raw: str, expected: str) -> None:
    assert clean_line(raw) == expected


def test_clean_line_caps_the_length() -> None:
    assert clean_line("x" * 300, max_length=200) == "x" * 200


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "<",
                ">",
                '"',
                "'",
                "&",
                "#",
                ";",
                "javascript:",
                "data:",
                "[",
                "]",
                "(",
                ")",
                "!",
                "`",
                "\n",
                " ",
                "on",
                "=",
                "script",
                "img",
                "svg",
                "a",
                "href",
                "\u202e",
                "&#106;",
                "&#x09;",
                "/",
                "\\",
                "*",
                "_",
                "|",
                "-",
                ":",
            ]
        ),
        max_size=40,
    ).map("".join)
)
def test_no_combination_of_dangerous_fragments_renders_active(text: str) -> None:
    assert active_content(render_markdown(text)) == []
