"""Attachments: stored under generated names, typed server-side, downloaded only through
the access-checked view, never rendered inline."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from retainer.cases import actions
from retainer.cases.models import CaseAttachment


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.RETAINER_ATTACHMENT_MAX_BYTES = 2048
    return tmp_path


@pytest.fixture
def case(cast, desk):
    return actions.check_open_case(
        contact=cast.contact, product=desk.product, subject="Logs", description="see file",
        channel="web", actor=cast.contact.user,
    )  # fmt: skip


def upload(client, case, name, content, **extra):
    return client.post(
        f"/api/v1/cases/{case.public_id}/attachments/",
        {"file": SimpleUploadedFile(name, content), **extra},
    )


def stored_files(media: Path) -> list[Path]:
    return [p for p in media.rglob("*") if p.is_file()]


def test_a_customer_uploads_a_log_and_downloads_it_as_an_attachment(cast, case, media):
    client = cast.client_for(cast.contact)
    response = upload(client, case, "../../etc/server.log", b"2026-11-22 ERROR 42\n")
    body = response.json()
    assert response.status_code == 201, body
    assert body["name"] == "server.log"
    assert body["content_type"] == "text/plain"
    attachment = CaseAttachment.objects.get()
    assert "server" not in attachment.storage_name  # generated, never the user's name
    download = client.get(f"/api/v1/cases/{case.public_id}/attachments/{attachment.pk}/")
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert b"".join(download.streaming_content) == b"2026-11-22 ERROR 42\n"


def test_an_oversized_file_is_refused_and_nothing_is_stored(cast, case, media):
    response = upload(cast.client_for(cast.contact), case, "big.txt", b"x" * 4096)
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
    assert CaseAttachment.objects.count() == 0
    assert stored_files(media) == []


def test_html_and_svg_are_refused_whatever_their_name(cast, case, media):
    client = cast.client_for(cast.contact)
    for name, content in [
        ("note.txt", b"<html><script>alert(1)</script>"),
        ("pic.png", b"<svg onload=alert(1)>"),
    ]:
        response = upload(client, case, name, content)
        assert response.status_code == 400
        assert response.json()["code"] == "type_not_allowed"
    assert stored_files(media) == []


def test_another_organization_cannot_list_or_download(cast, case, media):
    upload(cast.client_for(cast.contact), case, "a.txt", b"secret")
    attachment = CaseAttachment.objects.get()
    outsider = cast.client_for(cast.outsider)
    assert outsider.get(f"/api/v1/cases/{case.public_id}/attachments/").status_code == 404
    assert (
        outsider.get(f"/api/v1/cases/{case.public_id}/attachments/{attachment.pk}/").status_code
        == 404
    )


def test_internal_files_stay_with_staff(cast, case, media):
    staff = cast.client_for(cast.agent)
    assert upload(staff, case, "internal.txt", b"analysis", internal="true").status_code == 201
    attachment = CaseAttachment.objects.get()
    customer = cast.client_for(cast.contact)
    assert customer.get(f"/api/v1/cases/{case.public_id}/attachments/").json() == []
    assert (
        customer.get(f"/api/v1/cases/{case.public_id}/attachments/{attachment.pk}/").status_code
        == 404
    )
    assert upload(customer, case, "x.txt", b"x", internal="true").status_code == 400


def test_names_with_control_and_direction_characters_are_neutralized(cast, case, media):
    response = upload(cast.client_for(cast.contact), case, "invoice\u202egnp.exe.txt", b"plain")
    assert "\u202e" not in response.json()["name"]
