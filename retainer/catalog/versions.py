"""Release version strings compared the way people read them: 2.10 after 2.9."""

from __future__ import annotations

import re

_PART = re.compile(r"(\d+)|([a-zA-Z]+)")
VERSION_PATTERN = r"^[0-9][0-9A-Za-z.\-+]{0,39}$"


def version_key(version: str) -> tuple[tuple[int, int | str], ...]:
    """A sort key in which numeric parts compare as numbers (``2.10`` > ``2.9``) and a
    word part sorts before a number in the same position (``2.beta`` < ``2.0``)."""
    key: list[tuple[int, int | str]] = []
    for number, word in _PART.findall(version):
        key.append((1, int(number)) if number else (0, word.lower()))
    return tuple(key)
