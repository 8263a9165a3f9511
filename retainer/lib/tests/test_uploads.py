"""Attachment storage: names, types, limits and download headers."""

from __future__ import annotations

import gzip
import hashlib
import io
import re
import unicodedata
import zipfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from retainer.lib.tests.hostile import FILENAMES
from retainer.lib.uploads import (
    CHUNK_BYTES,
    OCTET_STREAM,
    SAFE_NAME_MAX_LENGTH,
    StoredFile,
    UploadRejected,
    download_response,
    open_stored,
    safe_name,
    store_upload,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 200
PDF = b"%PDF-1.7\n" + b"1 0 obj <<>> endobj\n" * 20
MB = 1024 * 1024


@pytest.fixture(autouse=True)
def media_root(settings: pytest.FixtureRequest, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path  # type: ignore[attr-defined]
    return tmp_path


def files_under(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()]


def office_document() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


class CountingReader(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.largest_read = 0

    def read(self, size: int | None = -1, /) -> bytes:
        assert size is not None and size > 0, "must read in bounded chunks"
        self.largest_read = max(self.largest_read, size)
        return super().read(size)


def test_a_png_is_stored_under_a_generated_name_with_its_hash(media_root: Path) -> None:
    stored = store_upload(io.BytesIO(PNG), original_name="../../screen shot.png", max_bytes=MB)
    assert re.fullmatch(r"attachments/\d{4}/\d{2}/[0-9a-f]{32}\.bin", stored.storage_name)
    assert (media_root / stored.storage_name).read_bytes() == PNG
    assert stored.size == len(PNG)
    assert stored.sha256 == hashlib.sha256(PNG).hexdigest()
    assert stored.content_type == "image/png"
    assert stored.safe_name == "screen shot.png"
    assert files_under(media_root) == [media_root / stored.storage_name]


def test_two_uploads_of_the_same_name_get_different_storage_names() -> None:
    first = store_upload(io.BytesIO(PDF), original_name="a.pdf", max_bytes=MB)
    second = store_upload(io.BytesIO(PDF), original_name="a.pdf", max_bytes=MB)
    assert first.storage_name != second.storage_name
    assert first.sha256 == second.sha256


def test_a_large_file_is_read_in_bounded_chunks() -> None:
    data = gzip.compress(b"") + bytes(range(256)) * (4 * MB // 256)
    reader = CountingReader(data)
    stored = store_upload(reader, original_name="big.gz", max_bytes=8 * MB)
    assert stored.size == len(data)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert stored.content_type == "application/gzip"
    assert reader.largest_read <= CHUNK_BYTES


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (PDF, "application/pdf"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 100, "image/jpeg"),
        (b"GIF89a" + b"\x00" * 100, "image/gif"),
        (
            office_document(),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        ("Grüße aus Köln\nline two\n".encode(), "text/plain"),
    ],
)
def test_the_type_is_detected_from_the_bytes_not_the_name(content: bytes, expected: str) -> None:
    stored = store_upload(io.BytesIO(content), original_name="upload.exe", max_bytes=MB)
    assert stored.content_type == expected


@pytest.mark.parametrize(
    "content",
    [
        b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 300,  # Windows executable
        b"\x7fELF\x02\x01\x01" + b"\x00" * 300,  # Linux executable
        b"<!DOCTYPE html><html><script>alert(1)</script></html>",
        b"\xef\xbb\xbf  <html><body onload=alert(1)>",
        b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>",
        b'<?xml version="1.0"?><svg/>',
        b"<script>alert(1)</script>",
        b"\x00\x01\x02 unknown binary \xfe\xff",
    ],
)
def test_dangerous_or_unknown_types_are_refused_and_leave_nothing(
    content: bytes, media_root: Path
) -> None:
    with pytest.raises(UploadRejected) as rejected:
        store_upload(io.BytesIO(content), original_name="notes.txt", max_bytes=MB)
    assert rejected.value.code == "type_not_allowed"
    assert files_under(media_root) == []


def test_the_allowlist_is_configurable() -> None:
    content = b"\x00\x01\x02 unknown binary"
    stored = store_upload(
        io.BytesIO(content), original_name="x.pcap", max_bytes=MB, allowed_types={OCTET_STREAM}
    )
    assert stored.content_type == OCTET_STREAM
    with pytest.raises(UploadRejected):
        store_upload(
            io.BytesIO(PDF), original_name="x.pdf", max_bytes=MB, allowed_types={"text/plain"}
        )


def test_a_file_over_the_limit_is_refused_and_leaves_nothing(media_root: Path) -> None:
    data = PDF + b"x" * (3 * CHUNK_BYTES)
    with pytest.raises(UploadRejected) as rejected:
        store_upload(io.BytesIO(data), original_name="big.pdf", max_bytes=len(data) - 1)
    assert rejected.value.code == "too_large"
    assert files_under(media_root) == []
    assert store_upload(io.BytesIO(data), original_name="ok.pdf", max_bytes=len(data)).size == len(
        data
    )


def test_an_empty_file_is_refused(media_root: Path) -> None:
    with pytest.raises(UploadRejected) as rejected:
        store_upload(io.BytesIO(b""), original_name="empty.txt", max_bytes=MB)
    assert rejected.value.code == "empty"
    assert files_under(media_root) == []


def test_a_failing_stream_leaves_nothing(media_root: Path) -> None:
    class Broken(io.BytesIO):
        calls = 0

        def read(self, size: int | None = -1, /) -> bytes:
            self.calls += 1
            if self.calls > 2:
                raise OSError("connection reset")
            return super().read(size)

    with pytest.raises(OSError, match="connection reset"):
        store_upload(Broken(PDF * 2000), original_name="x.pdf", max_bytes=100 * MB)
    assert files_under(media_root) == []


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\system32\\config\\sam", "sam"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("re\u200bport.pdf", "report.pdf"),
        (".htaccess", "htaccess"),
        ("...", "attachment"),
        ("", "attachment"),
        ("name\x00.pdf", "name.pdf"),
        ("line\r\nbreak.txt", "line break.txt"),
        ('a<b>:c"d|e?f*.txt', "a_b__c_d_e_f_.txt"),
        ("CON.txt", "_CON.txt"),
        ("Résumé 2025.pdf", "Résumé 2025.pdf"),
    ],
)
def test_safe_name_examples(raw: str, expected: str) -> None:
    assert safe_name(raw) == expected


def test_safe_name_caps_the_length_and_keeps_the_extension() -> None:
    name = safe_name("a" * 500 + ".pdf")
    assert len(name) == SAFE_NAME_MAX_LENGTH
    assert name.endswith(".pdf")


def _assert_harmless(name: str) -> None:
    assert name
    assert len(name) <= SAFE_NAME_MAX_LENGTH
    assert "/" not in name and "\\" not in name
    assert not name.startswith(".")
    assert not any(unicodedata.category(char) in ("Cc", "Cf") for char in name)


@pytest.mark.parametrize("raw", FILENAMES)
def test_hostile_file_names_are_neutralized(raw: str) -> None:
    _assert_harmless(safe_name(raw))


@hypothesis_settings(max_examples=300)
@given(st.text(max_size=400))
def test_any_name_becomes_harmless(raw: str) -> None:
    _assert_harmless(safe_name(raw))


@pytest.mark.parametrize(
    "name",
    [
        "../retainer.sqlite3",
        "attachments/2025/03/../../secret_key",
        "/etc/passwd",
        "attachments/2025/03/" + "A" * 32 + ".bin",
        "attachments/2025/03/" + "a" * 32 + ".bin/../x",
        "attachments/2025/03/" + "a" * 31 + ".bin",
        "attachments/2025/3/" + "a" * 32 + ".bin",
    ],
)
def test_open_stored_refuses_names_it_did_not_generate(name: str) -> None:
    with pytest.raises(ValueError, match="Not an attachment storage name"):
        open_stored(name)


def test_open_stored_reads_back_what_was_stored() -> None:
    stored = store_upload(io.BytesIO(PDF), original_name="a.pdf", max_bytes=MB)
    with open_stored(stored.storage_name) as handle:
        assert handle.read() == PDF


def _download(stored: StoredFile, display_name: str) -> tuple[dict[str, str], bytes]:
    response = download_response(stored, display_name=display_name)
    body = b"".join(response.streaming_content)  # type: ignore[arg-type]
    # Not response.close(): that sends request_finished, which touches the database.
    assert response.file_to_stream is not None
    response.file_to_stream.close()
    return dict(response.headers), body


def test_a_download_is_an_attachment_that_cannot_be_sniffed_or_run() -> None:
    stored = store_upload(io.BytesIO(PDF), original_name="a.pdf", max_bytes=MB)
    headers, body = _download(stored, "Angebot\u202efdp.exe.pdf")
    assert body == PDF
    assert headers["Content-Type"] == "application/pdf"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Security-Policy"] == "sandbox"
    assert headers["Content-Disposition"] == 'attachment; filename="Angebotfdp.exe.pdf"'
    assert headers["Content-Length"] == str(len(PDF))


def test_a_non_ascii_download_name_uses_rfc_6266_encoding() -> None:
    stored = store_upload(io.BytesIO(b"hello\n"), original_name="x.txt", max_bytes=MB)
    headers, _ = _download(stored, 'Grüße "quoted"\r\n.txt')
    assert headers["Content-Disposition"] == (
        "attachment; filename*=utf-8''Gr%C3%BC%C3%9Fe%20_quoted_%20.txt"
    )
    assert headers["Content-Type"] == "text/plain; charset=utf-8"


def test_an_unknown_type_downloads_as_octet_stream() -> None:
    stored = store_upload(
        io.BytesIO(b"\x00raw"), original_name="x", max_bytes=MB, allowed_types={OCTET_STREAM}
    )
    headers, _ = _download(StoredFile(**{**stored.__dict__, "content_type": ""}), "x")
    assert headers["Content-Type"] == OCTET_STREAM
