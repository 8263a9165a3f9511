"""The customer portal through HTTP: my cases, opening a case with the decision preview, the
case page (replies, files, transitions, survey), my support, and the public survey link."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import reverse

from conftest import Cast
from retainer.cases import actions
from retainer.cases.choices import CaseStatus, RootCause
from retainer.cases.models import Case, CaseAttachment, CaseMessage, CsatResponse
from retainer.cases.tests.conftest import Desk, make_contract
from retainer.contracts import actions as contract_actions
from retainer.contracts.choices import Preset
from retainer.lib.limits import TEXT_MAX_LENGTH
from retainer.lib.tests.hostile import FILENAMES, PAYLOADS, active_content


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.RETAINER_ATTACHMENT_MAX_BYTES = 4096
    return tmp_path


def open_case(cast: Cast, desk: Desk, who: Any = None, **fields: Any) -> Case:
    contact = who or cast.contact
    assert contact.user is not None
    return actions.check_open_case(
        contact.user,
        contact=contact,
        product=desk.product,
        release=fields.pop("release", desk.current),
        subject=fields.pop("subject", "Posting fails"),
        description=fields.pop("description", "Error 42 at night."),
        channel="web",
        **fields,
    )


def resolve(cast: Cast, case: Case) -> Case:
    actions.do_add_message(case, author=cast.agent, body="Fixed by the patch.")
    return actions.do_transition_case(
        case, CaseStatus.RESOLVED, actor=cast.agent, root_cause=RootCause.CONFIGURATION
    )


def row_counts() -> dict[str, int]:
    tables = set(connection.introspection.table_names())
    return {
        m._meta.label: m._default_manager.count()
        for m in apps.get_models()
        if m._meta.db_table in tables
    }


def url(name: str, case: Case | None = None) -> str:
    return reverse(f"portal:{name}", args=[case.public_id] if case else [])


def text(response: Any) -> str:
    return response.content.decode()


# --- My cases ----------------------------------------------------------------------------------


def test_my_cases_lists_the_organizations_cases_with_status_badges(cast, desk, incident_bank):
    mine = open_case(cast, desk, subject="Mine")
    theirs = open_case(cast, desk, who=cast.customer_admin, subject="A colleague's")
    response = cast.client_for(cast.contact).get(url("case_list"))
    assert response.status_code == 200
    assert mine.reference in text(response) and theirs.reference in text(response)
    assert 'class="badge status-new' in text(response)


def test_without_sharing_a_contact_sees_only_their_own_cases_but_the_admin_sees_all(
    cast, desk, incident_bank
):
    cast.acme.share_cases_with_colleagues = False
    cast.acme.save(update_fields=["share_cases_with_colleagues"])
    mine = open_case(cast, desk, subject="Mine")
    theirs = open_case(cast, desk, who=cast.customer_admin, subject="Not for Carl")
    contact = cast.client_for(cast.contact)
    listing = text(contact.get(url("case_list")))
    assert mine.reference in listing and theirs.reference not in listing
    assert contact.get(url("case_detail", theirs)).status_code == 404
    admin_listing = text(cast.client_for(cast.customer_admin).get(url("case_list")))
    assert mine.reference in admin_listing and theirs.reference in admin_listing


def test_my_cases_filters_open_and_closed(cast, desk, incident_bank):
    active = open_case(cast, desk, subject="Still open")
    done = open_case(cast, desk, subject="Withdrawn")
    actions.do_transition_case(
        done, CaseStatus.CANCELLED, actor=cast.contact.user, by_customer=True
    )
    client = cast.client_for(cast.contact)
    open_page = text(client.get(url("case_list"), {"status": "open"}))
    closed_page = text(client.get(url("case_list"), {"status": "closed"}))
    assert active.reference in open_page and done.reference not in open_page
    assert done.reference in closed_page and active.reference not in closed_page


def test_my_cases_pages_with_htmx_returning_only_the_rows(cast, desk, incident_bank):
    cases = [open_case(cast, desk, subject=f"Case {n}") for n in range(22)]
    client = cast.client_for(cast.contact)
    response = client.get(url("case_list"), {"page": 2}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "<html" not in text(response)
    assert cases[0].reference in text(response)  # oldest on the second page
    assert cases[-1].reference not in text(response)
    assert 'hx-get="/portal/cases/?status=&amp;page=1"' in text(response)


def test_my_cases_needs_a_fixed_number_of_queries(
    cast, desk, incident_bank, django_assert_max_num_queries
):
    open_case(cast, desk)
    client = cast.client_for(cast.contact)
    with django_assert_max_num_queries(12) as few:
        client.get(url("case_list"))
    for n in range(15):
        open_case(cast, desk, subject=f"More {n}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url("case_list"))


# --- Opening a case and the decision preview ------------------------------------------------


def test_the_new_case_form_labels_every_input(cast, desk):
    html = text(cast.client_for(cast.contact).get(url("case_new")))
    ids = set(re.findall(r'<(?:input|select|textarea)[^>]*\bid="([^"]+)"', html))
    labelled = set(re.findall(r'<label for="([^"]+)"', html))
    assert ids and ids <= labelled


def test_release_options_follow_the_chosen_product(cast, desk):
    response = cast.client_for(cast.contact).get(url("case_releases"), {"product": desk.product.pk})
    assert response.status_code == 200
    assert all(release.version in text(response) for release in desk.releases)
    other = cast.client_for(cast.contact).get(url("case_releases"), {"product": desk.other.pk})
    assert "5.0" not in text(other)


def preview(client: Client, desk: Desk, **data: Any) -> Any:
    """Post the form to the preview as htmx does (the client must exist before counting
    rows: signing in writes a session)."""
    payload = {"product": desk.product.pk, "release": desk.current.pk, **data}
    return client.post(url("case_preview"), payload, headers={"HX-Request": "true"})


def test_the_preview_says_covered_and_writes_nothing(cast, desk, incident_bank):
    client = cast.client_for(cast.contact)
    before = row_counts()
    response = preview(client, desk, subject="Will this be covered?")
    assert response.status_code == 200
    assert "Your request is covered by your support contract." in text(response)
    assert row_counts() == before


def test_the_preview_of_an_old_release_is_out_of_scope_with_the_offer_and_price(
    cast, desk, incident_bank
):
    client = cast.client_for(cast.contact)
    before = row_counts()
    response = preview(client, desk, release=desk.old.pk)
    assert "out of scope" in text(response).lower()
    assert "Backport" in text(response) and "€2,400.00" in text(response)
    assert row_counts() == before


def test_the_preview_refuses_an_unnamed_contact_and_says_why(cast, desk, incident_bank):
    response = preview(cast.client_for(cast.unauthorized), desk)
    assert "Not entitled" in text(response)
    assert "not a named contact" in text(response)
    assert "What you can do" in text(response)


def test_the_preview_says_billable_for_pay_as_you_go(cast, desk):
    make_contract(cast, desk, Preset.PAY_AS_YOU_GO)
    response = preview(cast.client_for(cast.contact), desk)
    assert "billed" in text(response)


def test_the_preview_ignores_a_release_of_another_product(cast, desk, incident_bank):
    response = preview(cast.client_for(cast.contact), desk, product=desk.other.pk)
    assert response.status_code == 200
    assert "does not cover this product" in text(response)


def test_the_preview_is_post_only(cast, desk):
    assert cast.client_for(cast.contact).get(url("case_preview")).status_code == 405


def test_opening_a_case_records_the_decision_and_shows_it(cast, desk, incident_bank):
    client = cast.client_for(cast.contact)
    response = client.post(
        url("case_new"),
        {
            "product": desk.product.pk,
            "release": desk.current.pk,
            "severity": 2,
            "subject": "Posting fails",
            "description": "Error 42",
            # Over-posting: none of these are fields of the portal form.
            "organization": cast.globex.pk,
            "contract": 999,
            "priority": "urgent",
            "assignee": cast.agent.pk,
        },
    )
    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("case_detail", case)
    assert case.channel == "web" and case.organization_id == cast.acme.pk
    assert case.priority == "normal" and case.assignee is None
    assert case.contract_id == incident_bank.pk and case.entitlement == "covered"
    page = text(client.get(response["Location"]))
    assert "Your request is covered by your support contract." in page
    assert case.reference in page


def test_an_out_of_scope_case_shows_the_offer_on_its_page(cast, desk, incident_bank):
    case = open_case(cast, desk, release=desk.old)
    page = text(cast.client_for(cast.contact).get(url("case_detail", case)))
    assert "Out of scope" in page and "€2,400.00" in page


def test_an_invalid_new_case_shows_errors_and_stores_nothing(cast, desk, incident_bank):
    response = cast.client_for(cast.contact).post(url("case_new"), {"product": desk.product.pk})
    assert response.status_code == 400
    assert "This field is required." in text(response)
    assert not Case.objects.exists()


def test_a_one_megabyte_description_is_a_form_error_and_stores_nothing(cast, desk, incident_bank):
    response = cast.client_for(cast.contact).post(
        url("case_new"),
        {
            "product": desk.product.pk,
            "release": desk.current.pk,
            "severity": 2,
            "subject": "Posting fails",
            "description": "x" * 1_000_000,
        },
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == ["description"]
    assert f"at most {TEXT_MAX_LENGTH} characters" in errors["description"][0]
    assert f"at most {TEXT_MAX_LENGTH} characters" in text(response)
    assert not Case.objects.exists()


# --- The case page ----------------------------------------------------------------------------


def test_the_case_page_shows_public_replies_but_never_internal_data(cast, desk, hour_bank):
    case = open_case(cast, desk)
    actions.do_add_message(case, author=cast.agent, body="Public answer from support")
    actions.do_add_message(case, author=cast.agent, body="SECRET-NOTE margin", internal=True)
    actions.do_log_time(case, agent=cast.agent, minutes=45, note="SECRET-TIME", actor=cast.agent)
    actions.do_add_attachment(
        case, upload=io.BytesIO(b"x"), name="internal-dump.txt", uploaded_by=cast.agent,
        internal=True,
    )  # fmt: skip
    page = text(cast.client_for(cast.contact).get(url("case_detail", case)))
    assert "Public answer from support" in page
    for secret in ("SECRET-NOTE", "SECRET-TIME", "internal-dump", "SLA", "0:45"):
        assert secret not in page, secret


def test_other_organizations_get_404_on_every_case_route(cast, desk, incident_bank):
    case = open_case(cast, desk)
    outsider = cast.client_for(cast.outsider)
    assert outsider.get(url("case_detail", case)).status_code == 404
    for name, data in (
        ("case_reply", {"body": "hi"}),
        ("case_transition", {"status": "cancelled"}),
        ("case_csat", {"rating": "good"}),
    ):
        assert outsider.post(url(name, case), data).status_code == 404
    assert not CaseMessage.objects.exists()
    case.refresh_from_db()
    assert case.status == CaseStatus.NEW


def test_staff_use_the_console_not_the_portal(cast, desk, incident_bank):
    case = open_case(cast, desk)
    assert cast.client_for(cast.agent).get(url("case_detail", case)).status_code == 404


@pytest.mark.parametrize("name", ["case_reply", "case_transition", "case_csat"])
def test_mutations_reject_get(cast, desk, incident_bank, name):
    case = open_case(cast, desk)
    client = cast.client_for(cast.contact)
    before = row_counts()
    assert client.get(url(name, case)).status_code == 405
    assert row_counts() == before


def test_a_session_post_without_csrf_token_is_refused(cast, desk, incident_bank):
    case = open_case(cast, desk)
    client = Client(enforce_csrf_checks=True)
    assert cast.contact.user is not None
    client.force_login(cast.contact.user)
    assert client.post(url("case_reply", case), {"body": "hi"}).status_code == 403
    assert client.post(url("case_new"), {"product": desk.product.pk}).status_code == 403
    assert client.post(url("case_preview"), {"product": desk.product.pk}).status_code == 403
    assert not CaseMessage.objects.exists()


def test_a_reply_with_a_file_is_posted_and_listed_with_a_download_link(cast, desk, incident_bank):
    case = open_case(cast, desk)
    client = cast.client_for(cast.contact)
    response = client.post(
        url("case_reply", case),
        {"body": "Here is the log", "file": SimpleUploadedFile("job.log", b"line 1\n")},
    )
    assert response.status_code == 302
    message = CaseMessage.objects.get()
    attachment = CaseAttachment.objects.get()
    assert message.by_customer and attachment.message_id == message.pk
    page = text(client.get(url("case_detail", case)))
    download = reverse("api:case_attachment_download", args=[case.public_id, attachment.pk])
    assert "Here is the log" in page and download in page
    assert client.get(download).status_code == 200


@pytest.mark.parametrize(
    ("content", "error"),
    [(b"x" * 5000, "too large"), (b"<html><script>alert(1)</script></html>", "not accepted")],
)
def test_a_refused_file_is_a_form_error_and_leaves_no_reply(
    cast, desk, incident_bank, content, error
):
    case = open_case(cast, desk)
    response = cast.client_for(cast.contact).post(
        url("case_reply", case),
        {"body": "See file", "file": SimpleUploadedFile("f.txt", content)},
    )
    assert response.status_code == 400
    assert error in text(response).lower()
    assert 'role="alert"' in text(response)
    assert not CaseMessage.objects.exists() and not CaseAttachment.objects.exists()


def test_an_empty_reply_is_a_form_error(cast, desk, incident_bank):
    case = open_case(cast, desk)
    response = cast.client_for(cast.contact).post(url("case_reply", case), {"body": "  "})
    assert response.status_code == 400
    assert "Write a reply or attach a file." in text(response)


def test_a_contact_cancels_a_new_case_and_the_button_is_gone(cast, desk, incident_bank):
    case = open_case(cast, desk)
    client = cast.client_for(cast.contact)
    assert "Cancel this case" in text(client.get(url("case_detail", case)))
    client.post(url("case_transition", case), {"status": "cancelled"})
    case.refresh_from_db()
    assert case.status == CaseStatus.CANCELLED
    page = text(client.get(url("case_detail", case)))
    assert "Cancel this case" not in page and "Send reply" not in page


def test_a_transition_the_customer_may_not_make_is_refused_with_a_message(
    cast, desk, incident_bank
):
    case = open_case(cast, desk)
    client = cast.client_for(cast.contact)
    response = client.post(url("case_transition", case), {"status": "resolved"}, follow=True)
    case.refresh_from_db()
    assert case.status == CaseStatus.NEW
    assert "cannot become resolved" in text(response)


def test_after_resolution_the_contact_closes_or_reopens_and_rates_the_case(
    cast, desk, incident_bank
):
    case = resolve(cast, open_case(cast, desk))
    client = cast.client_for(cast.contact)
    page = text(client.get(url("case_detail", case)))
    assert "Close the case" in page and "Reopen the case" in page and "Rate this case" in page
    response = client.post(url("case_csat", case), {"rating": "good", "comment": "Quick!"})
    assert response.status_code == 302
    assert CsatResponse.objects.get(case=case).rating == "good"
    page = text(client.get(url("case_detail", case)))
    assert "Rate this case" not in page and "You rated this case" in page
    again = client.post(url("case_csat", case), {"rating": "bad"}, follow=True)
    assert "already answered" in text(again)
    assert CsatResponse.objects.get(case=case).rating == "good"


def test_the_case_page_needs_a_fixed_number_of_queries(
    cast, desk, incident_bank, django_assert_max_num_queries
):
    case = open_case(cast, desk)
    client = cast.client_for(cast.contact)
    with django_assert_max_num_queries(16) as few:
        client.get(url("case_detail", case))
    for n in range(8):
        actions.do_add_message(case, author=cast.agent, body=f"Answer {n}")
        actions.do_add_message(case, author=cast.contact.user, body=f"Question {n}")
        actions.do_add_attachment(
            case, upload=io.BytesIO(b"x"), name=f"{n}.txt", uploaded_by=cast.contact.user
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url("case_detail", case))


# --- The public survey link -----------------------------------------------------------------


def test_the_signed_survey_link_works_without_signing_in(cast, desk, incident_bank):
    case = resolve(cast, open_case(cast, desk))
    client = Client()
    link = reverse("portal:csat", args=[actions.csat_token(case)])
    page = client.get(link)
    assert page.status_code == 200 and "How did we do?" in text(page)
    assert not CsatResponse.objects.exists()
    answered = client.post(link, {"rating": "neutral", "comment": "ok"})
    assert answered.status_code == 200 and "Thank you" in text(answered)
    assert CsatResponse.objects.get(case=case).rating == "neutral"


def test_a_forged_survey_link_is_refused(cast):
    response = Client().get(reverse("portal:csat", args=["forged"]))
    assert response.status_code == 404
    assert "invalid or has expired" in text(response)


def test_the_survey_link_of_an_unresolved_case_says_so(cast, desk, incident_bank):
    case = open_case(cast, desk)
    link = reverse("portal:csat", args=[actions.csat_token(case)])
    assert "opens when the case is resolved" in text(Client().get(link))
    Client().post(link, {"rating": "good"})
    assert not CsatResponse.objects.exists()


# --- My support -------------------------------------------------------------------------------


def test_my_support_shows_each_contract_with_balance_and_consumption(cast, desk, hour_bank):
    case = open_case(cast, desk)
    actions.do_log_time(case, agent=cast.agent, minutes=45, actor=cast.agent)
    page = text(cast.client_for(cast.contact).get(url("support")))
    assert "0:15 h" in page  # 60 minutes granted, 45 used
    assert "1:00 h" in page and "0:45 h" in page
    assert case.reference in page
    assert "€120.00 per hour" in page  # the organization's own overage rate


def test_my_support_shows_the_low_balance_warning(cast, desk, incident_bank):
    contract = make_contract(
        cast, desk, Preset.BANK, unit="hours", quantity=120, decrement_point="time_entry",
        low_balance_threshold=60,
    )  # fmt: skip
    contract_actions.do_consume(
        contract, quantity=90, key="test:1", source_type="admin", actor=cast.admin
    )
    page = text(cast.client_for(cast.customer_admin).get(url("support")))
    assert "Low balance" in page and "running low" in page


def test_my_support_never_shows_another_organizations_contract(cast, desk, incident_bank):
    other = contract_actions.do_create_contract(
        organization=cast.globex,
        preset=Preset.BANK,
        start_date=incident_bank.start_date,
        covered_products=[desk.product],
        terms={"overage_rate": "777", "currency": "USD"},
        actor=cast.admin,
    )
    page = text(cast.client_for(cast.contact).get(url("support")))
    assert f'id="contract-{incident_bank.pk}"' in page
    assert f'id="contract-{other.pk}"' not in page and "777" not in page


def test_my_support_needs_a_fixed_number_of_queries(
    cast, desk, hour_bank, django_assert_max_num_queries
):
    client = cast.client_for(cast.contact)
    case = open_case(cast, desk)
    actions.do_log_time(case, agent=cast.agent, minutes=5, actor=cast.agent)
    with django_assert_max_num_queries(14) as few:
        client.get(url("support"))
    for n in range(6):
        more = open_case(cast, desk, subject=f"More {n}")
        actions.do_log_time(more, agent=cast.agent, minutes=5, actor=cast.agent)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url("support"))


# --- Hostile content --------------------------------------------------------------------------

# The pages' own controls (forms, inputs, buttons, the htmx script and the stylesheets) are
# written by our templates with quoted attributes; escaped user content cannot produce a tag
# at all. Removing exactly those tags leaves everything else to ``active_content``.
OWN_TAGS = re.compile(
    r"<(?:form|input|button|textarea|select|link|meta|script src=\"/static/[^\"]*\")"
    r"(?:\s+[\w:-]+(?:=\"[^\"]*\"|='[^']*')?)+\s*/?>"
)


def user_visible_content(html: str) -> str:
    return OWN_TAGS.sub("", html)


def test_the_check_of_own_tags_still_catches_injected_ones():
    assert active_content(user_visible_content('<form method="post"><input name=x>'))
    assert active_content(user_visible_content("<script>alert(1)</script>"))
    assert not active_content(user_visible_content('<form method="post" action="/x/">'))


def test_hostile_content_is_inert_on_every_portal_page(cast, desk, hour_bank):
    user = cast.contact.user
    assert user is not None
    client = cast.client_for(cast.contact)
    cases = []
    for payload in PAYLOADS:
        response = client.post(
            url("case_new"),
            {
                "product": desk.product.pk,
                "release": desk.current.pk,
                "severity": 3,
                "subject": payload[:200],
                "description": payload,
            },
        )
        assert response.status_code == 302, payload
    cases = list(Case.objects.all())
    target = cases[0]
    for payload in PAYLOADS:
        assert client.post(url("case_reply", target), {"body": payload}).status_code == 302
    for name in FILENAMES:
        actions.do_add_attachment(target, upload=io.BytesIO(b"log"), name=name, uploaded_by=user)
    client.post(
        url("case_reply", target),
        {
            "body": "file",
            "file": SimpleUploadedFile("<img src=x onerror=alert(1)>.txt", b"x"),
        },
    )
    actions.do_log_time(target, agent=cast.agent, minutes=5, actor=cast.agent)
    resolved = resolve(cast, cases[1])
    pages = [
        url("case_list"),
        f"{url('case_list')}?page=2",
        url("case_new"),
        url("support"),
        url("case_detail", target),
        url("case_detail", resolved),
        reverse("portal:csat", args=[actions.csat_token(resolved)]),
        reverse("accounts:portal_home"),
        reverse("catalog:scope_of_support"),
    ]
    for page in pages:
        html = text(client.get(page))
        assert active_content(user_visible_content(html)) == [], page
    preview_html = text(preview(client, desk, subject=PAYLOADS[0], description=PAYLOADS[2]))
    assert active_content(user_visible_content(preview_html)) == []


# --- Overage is said plainly ---------------------------------------------------------------------


def test_my_support_and_the_case_say_work_is_billable_with_rate_and_overage_so_far(
    cast, desk, hour_bank
):
    """60 minutes in the bank, 90 logged: the case was covered at intake, yet 30 minutes
    are billed as overage at 120/h; the customer must read that, not just "0:00 left"."""
    case = open_case(cast, desk)
    actions.do_log_time(case, agent=cast.agent, minutes=90, actor=cast.agent)
    client = cast.client_for(cast.contact)
    support = text(client.get(url("support")))
    assert "Work is billable." in support
    assert "billed as overage at €120.00 per hour" in support
    assert "Overage so far: 0:30 h (€60.00)" in support
    page = text(client.get(url("case_detail", case)))
    assert "Work on this case is billable." in page
    assert "€120.00 per hour" in page and "Overage on this case so far: 0:30 h (€60.00)" in page
    assert ">Covered<" not in page and ">Billable<" in page


def test_a_case_within_the_allowance_says_nothing_about_billing(cast, desk, hour_bank):
    case = open_case(cast, desk)
    actions.do_log_time(case, agent=cast.agent, minutes=30, actor=cast.agent)
    client = cast.client_for(cast.contact)
    assert "billable" not in text(client.get(url("case_detail", case))).lower()
    assert "Work is billable" not in text(client.get(url("support")))


def test_the_customer_timeline_shows_the_customer_wording_of_the_decision(
    cast, desk, incident_bank
):
    case = open_case(cast, desk)
    page = text(cast.client_for(cast.contact).get(url("case_detail", case)))
    conversation = page.split('id="conversation-heading"')[1]
    assert "Your request is covered by your support contract." in conversation
    assert f"contract #{incident_bank.pk}" not in page
