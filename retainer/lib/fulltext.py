"""The query parser of every search box: the knowledge base (``kb.search``) and case
search (``cases.search``) turn what a user typed into the same terms.

- **Natural language.** The query is split into words; English stop words are dropped
  (unless nothing else is left); the remaining terms are OR-ed by the engines and
  ranked, so "how do I reset the admin password" finds the text about resetting admin
  passwords. The last word also matches as a prefix while it is being typed (no
  trailing space, ``PREFIX_MIN_LENGTH`` letters or more).
- **Quoted.** Every term is a run of letters and digits, quoted for the engine, so
  ``NEAR(``, ``"``, ``-``, ``column:``, ``*`` or ``^`` in a query never raise or change it.
- **Bounded.** A query longer than ``QUERY_MAX_LENGTH`` characters is refused
  (``InvalidInput`` ``query_too_long``, a 400); at most ``MAX_TERMS`` terms are used.

``ParsedQuery.fts5()`` is the SQLite FTS5 ``MATCH`` expression, ``ParsedQuery.tsquery()``
the PostgreSQL ``to_tsquery`` text; ``segments`` splits a snippet marked with
``START``/``STOP`` into ``(text, highlighted)`` parts for a template or an API body.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from retainer.lib.errors import InvalidInput
from retainer.lib.sanitize import strip_invisible_controls

QUERY_MAX_LENGTH = 500
MAX_TERMS = 24
PREFIX_MIN_LENGTH = 3
# Snippet highlight markers: control characters that stored text never holds (the
# checks strip them), split out again by ``segments``.
START, STOP = "\x02", "\x03"

STOP_WORDS = frozenset(
    {
        "a", "about", "above", "after", "again", "against", "all", "am", "an", "and", "any",
        "are", "as", "at", "be", "because", "been", "before", "being", "below", "between",
        "both", "but", "by", "can", "cannot", "could", "did", "do", "does", "doing", "down",
        "during", "each", "few", "for", "from", "further", "get", "got", "had", "has", "have",
        "having", "he", "her", "here", "hers", "herself", "him", "himself", "his", "how", "i",
        "if", "in", "into", "is", "it", "its", "itself", "just", "let", "me", "more", "most",
        "my", "myself", "no", "nor", "not", "of", "off", "on", "once", "only", "or", "other",
        "our", "ours", "ourselves", "out", "over", "own", "please", "same", "she", "should",
        "so", "some", "such", "than", "that", "the", "their", "theirs", "them", "themselves",
        "then", "there", "these", "they", "this", "those", "through", "to", "too", "under",
        "until", "up", "very", "was", "we", "were", "what", "when", "where", "which", "while",
        "who", "whom", "why", "will", "with", "would", "you", "your", "yours", "yourself",
        "yourselves",
    }
)  # fmt: skip
_WORD = re.compile(r"[^\W_]+")
_MARKDOWN_NOISE = re.compile(r"[#*`>|\[\]]+|\s+")


@dataclass(frozen=True)
class ParsedQuery:
    terms: tuple[str, ...]
    prefix: bool  # the last term also matches as a prefix

    def fts5(self) -> str:
        quoted = [f'"{term.replace(chr(34), chr(34) * 2)}"' for term in self.terms]
        if self.prefix:
            quoted[-1] += "*"
        return " OR ".join(quoted)

    def tsquery(self) -> str:
        quoted = [f"'{term.replace(chr(39), chr(39) * 2)}'" for term in self.terms]
        if self.prefix:
            quoted[-1] += ":*"
        return " | ".join(quoted)


def parse_query(text: str) -> ParsedQuery:
    """The terms of a user's query (see the module docstring); no terms: no search.
    Raises ``InvalidInput`` (``query_too_long``, field ``q``) past ``QUERY_MAX_LENGTH``."""
    if len(text) > QUERY_MAX_LENGTH:
        raise InvalidInput(
            "query_too_long",
            f"Search for at most {QUERY_MAX_LENGTH} characters.",
            field="q",
        )
    words = [word.casefold() for word in _WORD.findall(text)]
    if not words:
        return ParsedQuery((), False)
    kept = [word for word in words if word not in STOP_WORDS] or words
    terms = tuple(dict.fromkeys(kept))[:MAX_TERMS]
    typing_last = bool(text) and not text[-1].isspace() and _WORD.fullmatch(text[-1]) is not None
    prefix = typing_last and terms[-1] == words[-1] and len(terms[-1]) >= PREFIX_MIN_LENGTH
    return ParsedQuery(terms, prefix)


def segments(snippet: str) -> tuple[tuple[str, bool], ...]:
    """``…text \\x02hit\\x03 text…`` → ``(("…text ", False), ("hit", True), (" text…", False))``,
    with Markdown punctuation and runs of whitespace tidied."""
    out: list[tuple[str, bool]] = []
    for i, part in enumerate(re.split(f"[{START}{STOP}]", strip_invisible_controls(snippet))):
        text = _MARKDOWN_NOISE.sub(lambda m: " " if m.group().isspace() else "", part)
        if text:
            out.append((text, i % 2 == 1))
    return tuple(out)
