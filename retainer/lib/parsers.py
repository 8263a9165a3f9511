"""Request body parsers of the REST API, bounded before they parse.

Kept apart from ``lib/api.py``: DRF reads ``DEFAULT_PARSER_CLASSES`` while its views
module loads, which ``lib/api.py`` imports.
"""

from __future__ import annotations

import io
from typing import Any

from django.conf import settings
from rest_framework import parsers

from retainer.lib.errors import InvalidInput, PayloadTooLarge

#: The deepest nesting of arrays and objects a JSON body may have. No endpoint takes more
#: than a few levels; the bound keeps a hostile body from exhausting the parser's stack.
MAX_JSON_DEPTH = 32


def json_depth_exceeds(raw: bytes, limit: int) -> bool:
    """Whether ``raw`` nests arrays/objects deeper than ``limit`` (brackets inside strings
    do not count). Reads the bytes once, without parsing them."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    depth, in_string, escaped = 0, False, False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return False


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, bounded before it parses: a body over
    ``DATA_UPLOAD_MAX_MEMORY_SIZE`` is a 413 ``too_large``, one nested deeper than
    ``MAX_JSON_DEPTH`` a 400 ``too_deep`` (it answered 500 with a RecursionError)."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = b"" if stream is None else stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(raw) > limit:
            raise PayloadTooLarge("too_large", f"The request body is larger than {limit} bytes.")
        if json_depth_exceeds(raw, MAX_JSON_DEPTH):
            raise InvalidInput(
                "too_deep", f"JSON nested deeper than {MAX_JSON_DEPTH} levels is refused."
            )
        return super().parse(io.BytesIO(raw), media_type, parser_context)
