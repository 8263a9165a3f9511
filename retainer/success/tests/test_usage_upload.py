"""License usage from a CSV file: every row checked first, any rejected row writes nothing
and is reported with its row, column and why; a clean file reports each month."""

from __future__ import annotations

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile

from retainer.success import actions
from retainer.success.models import License, LicenseUsage, SuccessEvent
from retainer.success.tests.world import acme_license

URL = "/console/success/licenses/usage/upload/"


def _upload(client, text: str):
    upload = SimpleUploadedFile("usage.csv", text.encode(), content_type="text/csv")
    return client.post(URL, {"file": upload})


def _state():
    return (
        list(LicenseUsage.objects.order_by("pk").values_list("seats_in_use", flat=True)),
        SuccessEvent.objects.count(),
    )


def test_a_clean_file_reports_every_row(cast, sales):
    license = acme_license(cast, sales.product)
    text = (
        "license,period,seats_in_use,basic_users,advanced_users\n"
        f"{license.pk},2026-02,85,30,55\n"
        f"{license.pk},2026-03-14,90,,\n"
    )
    response = _upload(cast.client_for(cast.manager), text)
    assert response.status_code == 302
    months = LicenseUsage.objects.filter(license=license).order_by("period")
    assert [(u.period, u.seats_in_use) for u in months] == [
        (dt.date(2026, 1, 1), 80),
        (dt.date(2026, 2, 1), 85),
        (dt.date(2026, 3, 1), 90),
    ]
    assert [u.basic_users for u in months][-1] == 0


def test_any_bad_row_writes_nothing_and_each_is_reported(cast, sales):
    license = acme_license(cast, sales.product)
    before = _state()
    text = (
        "license,period,seats_in_use,basic_users,advanced_users\n"
        f"{license.pk},2026-02,85,30,55\n"  # fine, but not written: the file fails
        f"{license.pk},2026-03,-1,0,0\n"
        f"{license.pk},2026-04,101,0,0\n"
        "99999,2026-05,1,0,0\n"
        f"{license.pk},May,1,0,0\n"
        f"{license.pk},2026-02,1,0,0\n"
    )
    response = _upload(cast.client_for(cast.manager), text)
    assert response.status_code == 400
    page = response.content.decode()
    assert "Nothing was recorded: 5 problems in the file." in page
    for expected in (
        "row 3",
        "A count of seats or users cannot be negative.",
        "row 4",
        "101 seats in use is more than the 100 seats sold",
        "row 5",
        "No license with id 99999.",
        "row 6",
        "Not a month",
        "row 7",
        "The same license and month as row 2.",
    ):
        assert expected in page
    assert _state() == before


def test_a_missing_column_rejects_the_header(cast, sales):
    acme_license(cast, sales.product)
    report = actions.parse_usage_csv(b"license,seats_in_use\n1,2\n", licenses=License.objects.all())
    assert report.rejected == [
        {"row": "row 1", "column": "period", "reason": "Required column missing from the header."}
    ]


def test_usage_above_the_seats_passes_when_the_license_allows_it(cast, sales):
    license = actions.do_create_license(
        organization=cast.acme,
        product=sales.product,
        edition="Flex",
        seats=10,
        starts_on=dt.date(2026, 1, 1),
        ends_on=dt.date(2026, 12, 31),
        allow_overuse=True,
        actor=cast.admin,
    )
    report = actions.do_upload_usage(
        f"license,period,seats_in_use\n{license.pk},2026-01,12\n".encode(),
        licenses=License.objects.all(),
        actor=cast.manager,
    )
    assert (report.rejected, report.written) == ([], 1)


def test_an_agent_may_not_upload(cast, sales):
    license = acme_license(cast, sales.product)
    before = _state()
    text = f"license,period,seats_in_use\n{license.pk},2026-02,85\n"
    assert _upload(cast.client_for(cast.agent), text).status_code == 403
    assert _state() == before


def test_an_empty_or_foreign_file_is_refused(cast, sales):
    acme_license(cast, sales.product)
    client = cast.client_for(cast.manager)
    assert _upload(client, "license,period,seats_in_use\n").status_code == 400
    upload = SimpleUploadedFile("usage.csv", b"\xff\xfe\x00bad", content_type="text/csv")
    response = client.post(URL, {"file": upload})
    assert response.status_code == 400 and b"not UTF-8" in response.content
