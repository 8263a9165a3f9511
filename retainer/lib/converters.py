"""URL path converters that bound what reaches the database.

Django's ``int`` converter takes any run of digits, so ``/products/1789173872655324921462784/``
reached the database driver as an integer beyond 64 bits and answered 500. ``<id:pk>``
takes one to eighteen ASCII digits: every such value fits a 64-bit key, and a longer one
is a 404 like any other id that does not exist.
"""

from __future__ import annotations


class IdConverter:
    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(int(value))


def parse_id(raw: object) -> int | None:
    """A database id from untrusted input (a query parameter, a form field, a source id):
    one to eighteen ASCII digits, else ``None``. ``str.isdigit`` is not enough: it takes
    ``²`` and other digits that ``int`` then refuses or the database cannot hold."""
    text = str(raw) if isinstance(raw, (str, int)) and not isinstance(raw, bool) else ""
    if 1 <= len(text) <= 18 and text.isascii() and text.isdigit():
        return int(text)
    return None
