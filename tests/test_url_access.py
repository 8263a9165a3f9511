"""Every URL × every role: who may read what.

The URL list is generated from the resolver, so a new route without an entry in
``EXPECTED`` fails this test until someone decides who may see it. Every GET is
also checked to leave the database unchanged (safe methods are safe).
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import AnonymousUser
from django.db.models import Model
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from retainer.billing import actions as billing_actions
from retainer.billing.rules import parse_period
from retainer.cases import actions as case_actions
from retainer.catalog import actions as catalog_actions
from retainer.contracts import actions as contract_actions
from retainer.contracts.choices import Preset
from retainer.contracts.terms import preset_terms

ANON, CUSTOMER_ADMIN, CONTACT, OUTSIDER = "anonymous", "customer_admin", "contact", "outsider"
AGENT, BILLING, MANAGER, ADMIN = "agent", "billing", "manager", "admin"
ROLES = [ANON, CUSTOMER_ADMIN, CONTACT, OUTSIDER, AGENT, BILLING, MANAGER, ADMIN]
CUSTOMERS = [CUSTOMER_ADMIN, CONTACT, OUTSIDER]
STAFF = [AGENT, BILLING, MANAGER, ADMIN]
LOGIN = "login"  # a redirect to the sign-in page


def each(status: int | str, roles: list[str]) -> dict[str, int | str]:
    return dict.fromkeys(roles, status)


PUBLIC = each(200, ROLES)
STAFF_PAGE = {ANON: LOGIN, **each(404, CUSTOMERS), **each(200, STAFF)}
PORTAL_PAGE = {ANON: LOGIN, **each(200, CUSTOMERS), **each(404, STAFF)}
API_READ = {ANON: 403, **each(200, CUSTOMERS + STAFF)}
API_ACME_OBJECT = {ANON: 403, CUSTOMER_ADMIN: 200, CONTACT: 200, OUTSIDER: 404, **each(200, STAFF)}
API_POST_ONLY = {ANON: 403, **each(405, CUSTOMERS + STAFF)}
API_STAFF_ONLY = {ANON: 403, **each(404, CUSTOMERS), **each(200, STAFF)}
API_STAFF_LIST = {ANON: 403, **each(403, CUSTOMERS), **each(200, STAFF)}
BILLING_LIST = {ANON: 403, **each(403, [*CUSTOMERS, AGENT]), **each(200, [BILLING, MANAGER, ADMIN])}

# URL name -> expected status per role for a GET. Names without a namespace are top level.
EXPECTED: dict[str, dict[str, int | str]] = {
    "healthz": PUBLIC,
    "readyz": PUBLIC,
    "api-schema": PUBLIC,
    "accounts:login": {ANON: 200, **each(302, CUSTOMERS + STAFF)},
    "accounts:logout": {**each(405, ROLES)},
    "accounts:magic_link_request": each(405, ROLES),
    "accounts:magic_link": each(400, ROLES),
    "accounts:home": {ANON: LOGIN, **each(302, CUSTOMERS + STAFF)},
    "accounts:console_home": STAFF_PAGE,
    "accounts:organization_detail": STAFF_PAGE,
    "accounts:portal_home": PORTAL_PAGE,
    "catalog:scope_of_support": PUBLIC,
    "portal:case_list": PORTAL_PAGE,
    "portal:case_new": PORTAL_PAGE,
    "portal:case_releases": PORTAL_PAGE,
    "portal:case_preview": each(405, ROLES),
    "portal:case_detail": {
        ANON: LOGIN,
        CUSTOMER_ADMIN: 200,
        CONTACT: 200,
        OUTSIDER: 404,
        **each(404, STAFF),
    },
    "portal:case_reply": each(405, ROLES),
    "portal:case_transition": each(405, ROLES),
    "portal:case_csat": each(405, ROLES),
    "portal:support": PORTAL_PAGE,
    "portal:csat": PUBLIC,
    "api:organization_list": API_READ,
    "api:organization_detail": API_ACME_OBJECT,
    "api:contact_list": API_READ,
    "api:contact_detail": API_ACME_OBJECT,
    "api:contact_deactivate": API_POST_ONLY,
    "api:contact_reactivate": API_POST_ONLY,
    "api:product_list": API_READ,
    "api:product_detail": API_READ,
    "api:release_list": API_READ,
    "api:release_detail": API_READ,
    "api:scope_policy": API_READ,
    "api:scope_check": API_READ,
    "api:environment_list": API_READ,
    "api:environment_detail": API_READ,
    "api:offering_list": API_READ,
    "api:offering_detail": API_READ,
    "console:case_queue": STAFF_PAGE,
    "console:next_case": {ANON: LOGIN, **each(404, CUSTOMERS), **each(302, STAFF)},
    "console:case_page": STAFF_PAGE,
    "console:time_preview": STAFF_PAGE,
    **{
        f"console:{name}": each(405, ROLES)
        for name in (
            "case_reply",
            "case_transition",
            "case_assign",
            "case_fields",
            "case_defect",
            "case_override",
            "case_time",
            "timer_start",
            "timer_stop",
        )
    },
    "contracts:contract_list": STAFF_PAGE,
    "contracts:contract_detail": STAFF_PAGE,
    "contracts:plan_list": STAFF_PAGE,
    "contracts:contract_top_up": each(405, ROLES),
    "contracts:contract_renew": each(405, ROLES),
    "contracts:contract_cancel": each(405, ROLES),
    "api:case_list": API_READ,
    "api:case_detail": API_ACME_OBJECT,
    "api:case_messages": API_ACME_OBJECT,
    "api:case_events": API_ACME_OBJECT,
    "api:case_attachments": API_ACME_OBJECT,
    "api:case_attachment_download": API_ACME_OBJECT,
    "api:case_time_entries": API_STAFF_ONLY,
    "api:case_time_entry_detail": API_POST_ONLY,
    "api:case_transition": API_POST_ONLY,
    "api:case_override": API_POST_ONLY,
    "api:case_defect_link": API_POST_ONLY,
    "api:case_csat": API_POST_ONLY,
    "api:csat_by_token": each(405, ROLES),
    "api:defect_list": API_STAFF_ONLY,
    "api:defect_detail": API_STAFF_ONLY,
    "api:defect_fix_release": API_POST_ONLY,
    "api:contract_list": API_READ,
    "api:contract_detail": API_ACME_OBJECT,
    "api:contract_balance": API_ACME_OBJECT,
    "api:contract_ledger": API_ACME_OBJECT,
    "api:contract_events": API_ACME_OBJECT,
    "api:contract_cancel": API_POST_ONLY,
    "api:contract_renew": API_POST_ONLY,
    "api:contract_top_up": API_POST_ONLY,
    "api:contract_consume": API_POST_ONLY,
    "api:contract_reverse": API_POST_ONLY,
    "api:decision_list": API_READ,
    "api:decision_detail": API_ACME_OBJECT,
    "api:decision_override": API_POST_ONLY,
    "api:decision_preview": API_POST_ONLY,
    "api:plan_list": API_STAFF_LIST,
    "api:plan_detail": API_STAFF_LIST,
    "api:plan_new_version": API_POST_ONLY,
    "api:training_record_list": API_STAFF_LIST,
    "api:billing_run_list": BILLING_LIST,
    "api:billing_run_detail": BILLING_LIST,
    "api:billing_run_start": API_POST_ONLY,
    "api:invoice_list": {**BILLING_LIST, **each(200, CUSTOMERS)},
    "api:invoice_detail": {**BILLING_LIST, CUSTOMER_ADMIN: 200, CONTACT: 200, OUTSIDER: 404},
    "api:invoice_pdf": {**BILLING_LIST, CUSTOMER_ADMIN: 200, CONTACT: 200, OUTSIDER: 404},
    "api:invoice_lines": API_POST_ONLY,
    "api:invoice_items": BILLING_LIST,
    "api:invoice_issue": API_POST_ONLY,
    "api:invoice_void": API_POST_ONLY,
    "api:invoice_paid": API_POST_ONLY,
    "api:invoice_export_csv": BILLING_LIST,
    "api:invoice_export_xlsx": BILLING_LIST,
    "api:credit_note_list": BILLING_LIST,
    "api:credit_note_detail": BILLING_LIST,
    "api:renewal_quote_list": BILLING_LIST,
    "api:renewal_quote_generate": API_POST_ONLY,
    "api:renewal_quote_accept": API_POST_ONLY,
    "billing:portal_invoice_list": PORTAL_PAGE,
}


def walk(patterns: list, namespace: str = "", prefix: str = "") -> Iterator[tuple[str, str]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                continue  # the admin has its own test below
            ns = f"{namespace}:{entry.namespace}" if entry.namespace else namespace
            yield from walk(entry.url_patterns, ns.strip(":"), prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            if entry.name is None:
                raise AssertionError(
                    f"Unnamed URL {prefix}{entry.pattern}: every route needs a name."
                )
            yield (
                (f"{namespace}:{entry.name}" if namespace else entry.name),
                prefix + str(entry.pattern),
            )


def all_routes() -> list[tuple[str, str]]:
    routes = sorted(set(walk(get_resolver().url_patterns)))
    return [(name, pattern) for name, pattern in routes if not pattern.startswith("static/")]


def test_every_route_has_an_access_expectation():
    names = {name for name, _ in all_routes()}
    missing = sorted(names - set(EXPECTED))
    stale = sorted(set(EXPECTED) - names)
    assert not missing, f"Decide who may see these routes and add them to EXPECTED: {missing}"
    assert not stale, f"These routes no longer exist: {stale}"


@pytest.fixture
def world(cast, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    product = catalog_actions.do_save_product(
        None,
        actor=cast.admin,
        name="Ledger",
        code="ledger",
        list_price=Decimal(100),
        currency="EUR",
    )
    release = catalog_actions.do_save_release(
        None, actor=cast.admin, product=product, version="1.0", ga_date=dt.date(2025, 1, 1)
    )
    environment = catalog_actions.do_save_environment(
        None, actor=cast.admin, name="Ubuntu", version="24.04"
    )
    catalog_actions.do_save_scope_policy(None, actor=cast.admin, product=product)
    offering = catalog_actions.do_save_offering(
        None, actor=cast.admin, kind="backport", name="Backport", price=Decimal(10)
    )
    contract = contract_actions.do_create_contract(
        organization=cast.acme,
        preset=Preset.BANK,
        start_date=dt.date(2025, 1, 1),
        covered_products=[product],
        actor=cast.admin,
    )
    plan = contract_actions.do_create_plan(
        code="gold",
        name="Gold",
        terms=preset_terms(Preset.BANK),
        products=[product],
        actor=cast.admin,
    )
    case = case_actions.do_open_case(
        contact=cast.contact,
        product=product,
        subject="Help",
        description="Please",
        channel="web",
        actor=cast.contact.user,
    )
    entry = case_actions.do_log_time(case, agent=cast.agent, minutes=10, actor=cast.agent)
    defect = case_actions.do_create_defect(product=product, title="Bug", actor=cast.agent)
    attachment = case_actions.do_add_attachment(
        case, upload=io.BytesIO(b"log line"), name="log.txt", uploaded_by=cast.contact.user
    )
    invoice = billing_actions.do_create_invoice(
        organization=cast.acme, period=parse_period("2026-01"), actor=cast.billing
    )
    billing_actions.do_add_line(
        invoice,
        description="Support",
        quantity=Decimal(1),
        unit_price=Decimal(10),
        currency="EUR",
        actor=cast.billing,
    )
    invoice = billing_actions.do_issue_invoice(invoice, actor=cast.billing)
    credit_note = billing_actions.do_issue_credit_note(
        invoice, reason="Goodwill", actor=cast.billing
    )
    billing_run = billing_actions.do_create_run(period=parse_period("2026-01"), actor=cast.billing)
    (quote,) = billing_actions.do_generate_renewal_quotes(
        today=dt.date(2025, 12, 1), actor=cast.billing
    )
    return {
        "pk": {
            "accounts:organization_detail": cast.acme.pk,
            "api:organization_detail": cast.acme.pk,
            "api:contact_detail": cast.contact.pk,
            "api:contact_deactivate": cast.contact.pk,
            "api:contact_reactivate": cast.contact.pk,
            "api:product_detail": product.pk,
            "api:release_detail": release.pk,
            "api:environment_detail": environment.pk,
            "api:offering_detail": offering.pk,
            "api:case_time_entry_detail": entry.pk,
            "api:defect_detail": defect.pk,
            "api:case_attachment_download": attachment.pk,
            "api:defect_fix_release": defect.pk,
            "api:decision_detail": case.decision_id,
            "api:decision_override": case.decision_id,
            "api:plan_detail": plan.pk,
            "api:plan_new_version": plan.pk,
            "api:billing_run_detail": billing_run.pk,
            "api:billing_run_start": billing_run.pk,
            "api:credit_note_detail": credit_note.pk,
            "api:renewal_quote_accept": quote.pk,
            **dict.fromkeys(
                [
                    f"api:invoice_{view}"
                    for view in ("detail", "pdf", "lines", "items", "issue", "void", "paid")
                ],
                invoice.pk,
            ),
            **dict.fromkeys(
                [
                    f"api:contract_{view}"
                    for view in (
                        "detail",
                        "balance",
                        "ledger",
                        "events",
                        "cancel",
                        "renew",
                        "top_up",
                        "consume",
                        "reverse",
                    )
                ],
                contract.pk,
            ),
            **dict.fromkeys(
                [f"contracts:contract_{view}" for view in ("detail", "top_up", "renew", "cancel")],
                contract.pk,
            ),
        },
        "public_id": case.public_id,
        "token": case_actions.csat_token(case),
        "product_pk": product.pk,
    }


def url_for(name: str, pattern: str, world: dict) -> str:
    kwargs = {}
    for param in re.findall(r"<(?:\w+:)?(\w+)>", pattern):
        kwargs[param] = world["pk"][name] if param == "pk" else world[param]
    return reverse(name, kwargs=kwargs)


def row_counts() -> dict[str, int]:
    return {m._meta.label: m._default_manager.count() for m in apps.get_models()}


def users_by_role(cast) -> dict[str, object]:
    return {
        ANON: None,
        CUSTOMER_ADMIN: cast.customer_admin,
        CONTACT: cast.contact,
        OUTSIDER: cast.outsider,
        AGENT: cast.agent,
        BILLING: cast.billing,
        MANAGER: cast.manager,
        ADMIN: cast.admin,
    }


@pytest.mark.parametrize("role", ROLES)
def test_each_route_answers_each_role_as_expected_and_changes_nothing(cast, world, role):
    client = cast.client_for(users_by_role(cast)[role])
    failures = []
    for name, pattern in all_routes():
        url = url_for(name, pattern, world)
        before = row_counts()
        response = client.get(url)
        expected = EXPECTED[name][role]
        if expected == LOGIN:
            ok = response.status_code == 302 and response["Location"].startswith(
                reverse("accounts:login")
            )
        else:
            ok = response.status_code == expected
        if not ok:
            failures.append(f"{role} GET {url}: {response.status_code}, expected {expected}")
        if row_counts() != before and name != "accounts:login":
            failures.append(f"{role} GET {url} changed the database")
    assert not failures, "\n".join(failures)


def admin_models() -> list[type[Model]]:
    return sorted(admin.site._registry, key=lambda m: m._meta.label)


@pytest.mark.parametrize("role", ROLES)
def test_the_admin_shows_each_model_only_to_roles_with_its_permissions(cast, role):
    user_or_contact = users_by_role(cast)[role]
    client = cast.client_for(user_or_contact)
    user: Any = getattr(user_or_contact, "user", user_or_contact)
    failures = []
    request = RequestFactory().get("/admin/")
    request.user = user or AnonymousUser()
    for model in admin_models():
        meta = model._meta
        model_admin = admin.site._registry[model]
        # Some admins never add (history, cases worked through actions): 403 for everyone.
        allowed = {
            "changelist": model_admin.has_view_or_change_permission(request),
            "add": model_admin.has_add_permission(request),
        }
        for view, perms in (("changelist", ("view", "change")), ("add", ("add",))):
            url = reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}")
            response = client.get(url)
            if user is None or not user.is_staff:
                ok = response.status_code == 302 and "/admin/login/" in response["Location"]
            elif (
                any(user.has_perm(f"{meta.app_label}.{p}_{meta.model_name}") for p in perms)
                and allowed[view]
            ):
                ok = response.status_code == 200
            else:
                ok = response.status_code == 403
            if not ok:
                failures.append(f"{role} GET {url}: {response.status_code}")
    assert not failures, "\n".join(failures)


def test_roles_hold_the_permissions_their_job_needs(cast):
    assert cast.agent.has_perm("accounts.change_contact")
    assert not cast.agent.has_perm("accounts.add_organization")
    assert not cast.agent.has_perm("catalog.change_product")
    assert cast.manager.has_perm("catalog.change_product")
    assert cast.billing.has_perm("accounts.change_organization")
    assert not cast.billing.has_perm("catalog.add_release")
    for user in (cast.agent, cast.manager, cast.billing, cast.admin):
        assert not user.has_perm("accounts.delete_contact")
        assert not user.has_perm("accounts.delete_organization")
        assert not user.has_perm("accounts.change_accountevent")
