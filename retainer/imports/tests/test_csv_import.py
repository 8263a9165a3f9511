"""CSV imports: every row checked first, nothing written when one is rejected, re-runs
add nothing, and the console page for admins."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from retainer.accounts.models import Contact, Organization
from retainer.cases.models import Case
from retainer.catalog import actions as catalog_actions
from retainer.contracts.models import Contract
from retainer.imports.actions import import_csv
from retainer.imports.models import ImportRun

ORGS = b"name,domains,time_zone,currency\nVandelay,vandelay.test,Europe/Berlin,EUR\nInitrode,initrode.test,,\n"
CONTACTS = (
    b"organization,full_name,email,role\n"
    b"Vandelay,Art Vandelay,art@vandelay.test,admin\n"
    b"Initrode,Peter Gibbons,peter@initrode.test,\n"
)


@pytest.fixture
def product(db, cast):
    return catalog_actions.do_save_product(
        None, actor=cast.admin, name="Widget", code="widget", currency="EUR"
    )


def test_organizations_then_contacts_then_contracts_then_cases(db, cast, product) -> None:
    assert import_csv("organizations", ORGS, actor=cast.admin).created == {"organizations": 2}
    assert import_csv("contacts", CONTACTS, actor=cast.admin).created == {"contacts": 2}
    contracts = (
        b"external_id,organization,preset,start_date,products,quantity,opening_balance\n"
        b"C-1,Vandelay,bank,2026-01-01,widget,10,4\n"
    )
    run = import_csv("contracts", contracts, actor=cast.admin)
    assert run.status == "succeeded", run.rejected
    contract = Contract.objects.get(reference="C-1")
    assert contract.balance == 4  # the opening balance, by an adjustment with its reason
    cases = (
        b"external_id,contact_email,product,subject,status,severity,created_at,finished_at\n"
        b"T-1,art@vandelay.test,widget,Export fails,closed,2,2025-05-01,2025-05-03T10:00:00\n"
        b"T-2,art@vandelay.test,widget,Still broken,open,1,2026-11-30,\n"
    )
    run = import_csv("cases", cases, actor=cast.admin)
    assert run.status == "succeeded", run.rejected
    closed = Case.objects.get(subject="Export fails")
    assert closed.status == "closed" and closed.decision_id is None
    opened = Case.objects.get(subject="Still broken")
    assert opened.status == "open" and opened.decision_id is not None  # through intake
    # Every file again: nothing new.
    for kind, data in (("organizations", ORGS), ("contacts", CONTACTS), ("cases", cases)):
        again = import_csv(kind, data, actor=cast.admin)
        assert again.created == {"skipped": 2}, (kind, again.created)
    assert Case.objects.filter(contact__email="art@vandelay.test").count() == 2


@pytest.mark.parametrize(
    ("kind", "data", "row", "column"),
    [
        ("contacts", b"organization,full_name\nVandelay,Hank\n", "header", "email"),
        (
            "contacts",
            b"organization,full_name,email\nNowhere Ltd,Ann,ann@x.test\n",
            "row 2",
            "organization",
        ),
        (
            "contacts",
            b"organization,full_name,email\nVandelay,Ann,not-an-address\n",
            "row 2",
            "email",
        ),
        ("organizations", b"name,time_zone\nAcme 2,Mars/Olympus\n", "row 2", "time_zone"),
        (
            "contracts",
            b"external_id,organization,preset,start_date,products\nC-9,Vandelay,bank,2026-13-40,widget\n",
            "row 2",
            "start_date",
        ),
        (
            "contracts",
            b"external_id,organization,preset,start_date,products\nC-9,Vandelay,bank,2026-01-01,nope\n",
            "row 2",
            "products",
        ),
    ],
)
def test_a_bad_row_is_named_with_its_column_and_nothing_is_written(
    db, cast, product, kind, data, row, column
) -> None:
    import_csv("organizations", ORGS, actor=cast.admin)
    before = (Organization.objects.count(), Contact.objects.count(), Contract.objects.count())
    run = import_csv(kind, data, actor=cast.admin)
    assert run.status == "failed"
    assert any(r["row"] == row and column in r["column"] for r in run.rejected), run.rejected
    assert (
        Organization.objects.count(),
        Contact.objects.count(),
        Contract.objects.count(),
    ) == before


def test_one_bad_row_keeps_the_good_ones_out_too(db, cast, product) -> None:
    import_csv("organizations", ORGS, actor=cast.admin)
    data = CONTACTS + b"Vandelay,Broken,broken-address\n"
    run = import_csv("contacts", data, actor=cast.admin)
    assert run.status == "failed" and run.rejected_count == 1
    assert run.rejected[0]["row"] == "row 4"
    assert not Contact.objects.filter(
        email__in=["art@vandelay.test", "peter@initrode.test"]
    ).exists()


def test_a_dry_run_reports_and_writes_nothing(db, cast, product) -> None:
    run = import_csv("organizations", ORGS, dry_run=True, actor=cast.admin)
    assert run.status == "succeeded" and run.created == {"organizations": 2}
    assert not Organization.objects.filter(name__in=["Vandelay", "Initrode"]).exists()


def test_an_admin_checks_and_imports_a_file_in_the_console(db, cast, product) -> None:
    client = cast.client_for(cast.admin)
    upload = SimpleUploadedFile("orgs.csv", ORGS, content_type="text/csv")
    response = client.post(
        "/console/imports/",
        {"kind": "organizations", "file": upload, "source": "csv", "dry_run": "on"},
    )
    run = ImportRun.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/console/imports/{run.pk}/"
    assert not Organization.objects.filter(name="Vandelay").exists()
    page = client.get(f"/console/imports/{run.pk}/").content.decode()
    assert "Would create" in page and "2 organizations" in page
    bad = SimpleUploadedFile("c.csv", b"organization,full_name,email\nNope,A,a@b.test\n")
    client.post("/console/imports/", {"kind": "contacts", "file": bad, "source": "csv"})
    latest = ImportRun.objects.order_by("-pk")[0]
    page = client.get(f"/console/imports/{latest.pk}/").content.decode()
    assert "There is no organization" in page and "row 2" in page
    # The form refuses what it cannot read, with the reason beside the field.
    response = client.post("/console/imports/", {"kind": "nonsense", "source": "csv"})
    assert response.status_code == 400


def test_only_admins_reach_the_imports_pages(db, cast) -> None:
    assert cast.client_for(cast.manager).get("/console/imports/").status_code == 403
    assert cast.client_for(cast.admin).get("/console/imports/").status_code == 200


def test_the_command_lists_rejected_rows_and_fails(db, cast, tmp_path) -> None:
    from io import StringIO

    from django.core.management import CommandError, call_command

    bad = tmp_path / "contacts.csv"
    bad.write_bytes(b"organization,full_name,email\nNope,A,a@b.test\n")
    output = StringIO()
    with pytest.raises(CommandError, match="1 rows rejected"):
        call_command("import_csv", "contacts", str(bad), stdout=output)
    assert "rejected row 2 organization: There is no organization 'Nope'" in output.getvalue()
    good = tmp_path / "orgs.csv"
    good.write_bytes(ORGS)
    call_command("import_csv", "organizations", str(good), stdout=output)
    assert "created 2 organizations" in output.getvalue()


def test_a_dry_run_counts_the_good_rows_beside_the_rejected_ones(db, cast) -> None:
    import_csv("organizations", ORGS, actor=cast.admin)
    data = CONTACTS + b"Nowhere,Ann,ann@nowhere.test\n"
    run = import_csv("contacts", data, dry_run=True, actor=cast.admin)
    assert run.status == "succeeded" and run.created == {"contacts": 2}
    assert [r["row"] for r in run.rejected] == ["row 4"]
    assert (run.done, run.total) == (3, 3)
    assert not Contact.objects.filter(email="art@vandelay.test").exists()
