"""Attachment storage: server-chosen names, server-detected types, size limits, safe downloads.

Files live under ``MEDIA_ROOT/attachments/<yyyy>/<mm>/<32 hex>.bin``. The name on disk is
random and never derived from what the user sent; the user's name is kept only as display
text (:func:`safe_name`), in the database of the app that owns the attachment. ``MEDIA_ROOT``
is not served by the web server: files leave only through :func:`download_response`, called
by a view that has already checked access.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import re
import secrets
import unicodedata
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

import filetype
from django.conf import settings
from django.http import FileResponse
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from retainer.lib.errors import InvalidInput

__all__ = [
    "DEFAULT_ALLOWED_TYPES",
    "StoredFile",
    "UploadRejected",
    "UploadTooLarge",
    "detect_content_type",
    "download_response",
    "open_stored",
    "safe_name",
    "store_upload",
]

CHUNK_BYTES = 64 * 1024
#: Bytes read before deciding the type; enough for every signature, including Office files.
HEAD_BYTES = 8 * 1024
SAFE_NAME_MAX_LENGTH = 150
OCTET_STREAM = "application/octet-stream"

#: Types accepted unless a caller passes its own allowlist. No executables, no HTML, no SVG,
#: and no unrecognised binary (it would be served as application/octet-stream).
DEFAULT_ALLOWED_TYPES: frozenset[str] = frozenset(
    {
        "application/pdf",
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "application/zip",
        "application/gzip",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.oasis.opendocument.text",
        "application/vnd.oasis.opendocument.spreadsheet",
        "text/plain",
    }
)

_STORAGE_NAME = re.compile(r"attachments/[0-9]{4}/[0-9]{2}/[0-9a-f]{32}\.bin")
# What browsers sniff as markup (WHATWG MIME sniffing, "identify an unknown MIME type"), plus
# SVG and XML, which carry script as well.
_MARKUP = re.compile(
    rb"<(?:!doctype\s+html|html|head|body|script|iframe|h1|div|font|table|a|style|title|b|br|p"
    rb"|svg|\?xml|!--)[\s>/]",
    re.IGNORECASE,
)
_WINDOWS_RESERVED = re.compile(r"(?:con|prn|aux|nul|com[0-9]|lpt[0-9])(?:\..*)?", re.IGNORECASE)
_RESERVED_CHARACTERS = re.compile(r'[<>:"|?*]')
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,16}$")


class UploadRejected(InvalidInput):
    """An upload refused for a reason the user can act on (a 400, or 413 when too large).

    ``code`` is stable (``too_large``, ``empty``, ``type_not_allowed``); ``detail`` is for
    people; ``field`` is ``"file"``. Nothing of the upload is left on disk.
    """

    TOO_LARGE = "too_large"
    EMPTY = "empty"
    TYPE_NOT_ALLOWED = "type_not_allowed"

    def __init__(self, code: str, detail: str, *, field: str | None = "file") -> None:
        super().__init__(code, detail, field=field)


class UploadTooLarge(UploadRejected):
    """The upload is over the size limit: HTTP's own 413."""

    status = 413

    def __init__(self, max_bytes: int) -> None:
        super().__init__(
            self.TOO_LARGE,
            f"This file is too large: files may be at most {filesizeformat(max_bytes)}.",
        )


@dataclass(frozen=True)
class StoredFile:
    """A stored attachment. ``storage_name`` is relative to ``MEDIA_ROOT``; ``size`` in bytes;
    ``sha256`` in hex; ``content_type`` as detected from the bytes; ``safe_name`` is the
    user's file name made harmless for display and for downloads."""

    storage_name: str
    size: int
    sha256: str
    content_type: str
    safe_name: str


class Readable(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


def detect_content_type(head: bytes) -> str:
    """The type of a file from its first bytes (at least :data:`HEAD_BYTES` when available).

    Binary formats by signature (``filetype``); otherwise UTF-8 text without NUL bytes is
    ``text/plain`` unless it looks like markup, which is ``text/html`` (refused by default:
    a browser could be made to render it). Anything else is ``application/octet-stream``.
    """
    kind = filetype.guess(head)
    if kind is not None:
        return str(kind.mime)
    if not head or b"\x00" in head:
        return OCTET_STREAM
    try:
        # Incremental: a multi-byte character cut at the end of the head is not an error.
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return OCTET_STREAM
    if _MARKUP.search(head.lstrip(b"\xef\xbb\xbf \t\r\n\x0c")[:1024]):
        return "text/html"
    return "text/plain"


def _read_head(fileobj: Readable) -> bytes:
    parts: list[bytes] = []
    size = 0
    while size < HEAD_BYTES:
        part = fileobj.read(min(CHUNK_BYTES, HEAD_BYTES - size))
        if not part:
            break
        parts.append(part)
        size += len(part)
    return b"".join(parts)


def store_upload(
    fileobj: Readable,
    *,
    original_name: str,
    max_bytes: int,
    allowed_types: AbstractSet[str] = DEFAULT_ALLOWED_TYPES,
) -> StoredFile:
    """Store an uploaded file under a new random name and describe it.

    Reads ``fileobj`` in chunks of at most :data:`CHUNK_BYTES`, hashing as it goes, so memory
    use does not grow with the file. Raises :class:`UploadRejected` for an empty file, a file
    larger than ``max_bytes``, or a detected type outside ``allowed_types``; the type is
    decided from the first bytes, before anything is written. The file is written under a
    temporary name and renamed into place only when complete, so no partial file ever has a
    valid storage name.
    """
    head = _read_head(fileobj)
    if not head:
        raise UploadRejected(UploadRejected.EMPTY, "The file is empty.")
    content_type = detect_content_type(head)
    if content_type not in allowed_types:
        raise UploadRejected(
            UploadRejected.TYPE_NOT_ALLOWED, f"Files of type {content_type} are not accepted."
        )
    now = timezone.now()
    relative = f"attachments/{now:%Y}/{now:%m}/{secrets.token_hex(16)}.bin"
    target = Path(settings.MEDIA_ROOT) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.part")
    digest = hashlib.sha256()
    size = 0
    try:
        with partial.open("xb") as out:
            chunk = head
            while chunk:
                size += len(chunk)
                if size > max_bytes:
                    raise UploadTooLarge(max_bytes)
                digest.update(chunk)
                out.write(chunk)
                chunk = fileobj.read(CHUNK_BYTES)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return StoredFile(
        storage_name=relative,
        size=size,
        sha256=digest.hexdigest(),
        content_type=content_type,
        safe_name=safe_name(original_name),
    )


def safe_name(name: str, *, max_length: int = SAFE_NAME_MAX_LENGTH) -> str:
    """A user-supplied file name made safe to display and to offer as a download name.

    Keeps only the last path component (``/`` and ``\\`` both separate), removes control,
    bidi and zero-width characters, replaces characters Windows reserves, drops leading dots
    and spaces (no hidden files, no ``..``) and trailing ones, guards Windows device names,
    and cuts the name to ``max_length`` characters keeping its extension. Never empty:
    ``"attachment"`` when nothing is left.
    """
    text = unicodedata.normalize("NFC", name)
    text = re.split(r"[/\\]", text)[-1]
    text = "".join(
        " " if char.isspace() else char
        for char in text
        if unicodedata.category(char) not in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")
        or char.isspace()
    )
    text = _RESERVED_CHARACTERS.sub("_", " ".join(text.split()))
    text = text.lstrip(". ").rstrip(". ")
    if not text:
        return "attachment"
    if _WINDOWS_RESERVED.fullmatch(text):
        text = f"_{text}"
    if len(text) > max_length:
        match = _EXTENSION.search(text)
        extension = match.group(0) if match else ""
        text = text[: max_length - len(extension)].rstrip(". ") + extension
    return text


def open_stored(storage_name: str) -> BinaryIO:
    """Open a stored attachment for reading (binary). The caller closes it.

    Refuses, with ``ValueError``, any name that is not of the form :func:`store_upload`
    generates, so a name taken from a request or a database row cannot reach other files.
    Raises ``FileNotFoundError`` if the file is gone.
    """
    if not _STORAGE_NAME.fullmatch(storage_name):
        raise ValueError(f"Not an attachment storage name: {storage_name!r}.")
    return (Path(settings.MEDIA_ROOT) / storage_name).open("rb")


def download_response(stored: StoredFile, *, display_name: str) -> FileResponse:
    """A response that makes the browser save the file, never render it.

    ``Content-Disposition: attachment`` with the neutralized ``display_name`` (RFC 6266:
    ``filename*`` with UTF-8 when it is not ASCII), the detected type (or
    ``application/octet-stream``), ``X-Content-Type-Options: nosniff`` and
    ``Content-Security-Policy: sandbox``, so even a file opened in place cannot run script
    with the site's origin. Access must have been checked by the caller.
    """
    content_type = stored.content_type or OCTET_STREAM
    if content_type == "text/plain":
        content_type = "text/plain; charset=utf-8"
    response = FileResponse(
        open_stored(stored.storage_name),
        as_attachment=True,
        filename=safe_name(display_name),
        content_type=content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
