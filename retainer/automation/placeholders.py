"""Macro placeholders: a restricted substitution of known names (pure: no ORM).

A macro's body is the agent's text with ``{{ name }}`` placeholders. Only the names
below are replaced, by plain string substitution: the text is never a template, so a
macro cannot reach anything but these values. An unknown name is refused when the
macro is saved (``unknown_placeholders``).

- ``{{ contact.name }}``: the case's contact;
- ``{{ case.reference }}``: the case's reference;
- ``{{ balance }}``: the balance of the case's contract ("3 incidents", "12.5 hours");
- ``{{ decision }}``: the entitlement decision's sentence, as the customer reads it;
- ``{{ article:<slug> }}``: the help-centre link of a knowledge article.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
ARTICLE = re.compile(r"article:([a-z0-9][a-z0-9-]{0,89})")

KNOWN = ("contact.name", "case.reference", "balance", "decision")


def placeholders(body: str) -> list[str]:
    """The names used in ``body``, in order, without repeats."""
    return list(dict.fromkeys(PLACEHOLDER.findall(body)))


def article_slugs(body: str) -> list[str]:
    return [m.group(1) for name in placeholders(body) if (m := ARTICLE.fullmatch(name))]


def unknown_placeholders(body: str) -> list[str]:
    """Names in ``body`` that are neither known nor an article link."""
    return [n for n in placeholders(body) if n not in KNOWN and not ARTICLE.fullmatch(n)]


def render(body: str, values: Mapping[str, str], article_url: Callable[[str], str]) -> str:
    """``body`` with each known placeholder replaced by its value (``values`` by name) and
    each article link by ``article_url(slug)``; anything else is left as written."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in values:
            return values[name]
        article = ARTICLE.fullmatch(name)
        if article:
            return article_url(article.group(1))
        return match.group(0)

    return PLACEHOLDER.sub(replace, body)
