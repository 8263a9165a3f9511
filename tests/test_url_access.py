"""Every URL × every HTTP method it takes × every role: who gets through.

The URL list is generated from the resolver and each route's methods are read from its
view (a DRF or Django class view's handlers, the method list of ``require_POST``,
``require_safe`` or ``require_http_methods`` on a function view; all six methods when
the view does not say). A new route, or a new method on a route, without a declared
expectation fails this test until someone decides who may use it.

- GET (and HEAD, which answers like GET) is checked against ``EXPECTED``: the exact
  status per role. Safe methods are safe: they change nothing in the database.
- Every other method is sent with an empty body (JSON ``{}`` to the API, empty form
  data to pages) and checked against ``WRITES``: the roles the permission check lets
  through. A refused role gets 401/403/404, or the sign-in page for a page; it never
  learns about its refusal from a 400 about the (empty) input. A role let through gets
  anything else that is not a 5xx (400 for the empty body, 302 back to the page, 409).
- No request is ever answered with a 5xx.
- A refused request changes nothing in the database; neither does an allowed one with
  an empty body, unless ``EMPTY_BODY_WRITES`` says that request needs no input.

The same operation needs the same permission whatever the door: the console, the portal
and the API. ``WRITES`` is therefore written in terms of operations (``LOG_TIME``,
``TOP_UP``, ``OVERRIDE`` …), each the roles holding the permission the API names for it
(pinned against ``retainer/accounts/roles.py`` below), narrowed to the audience of the
door (the console serves staff, the portal customers); ``SAME_OPERATION`` lists the
doors of each operation and a test checks that their expectations agree. As roles may
hold the same permissions by chance, a last test takes the permissions away one at a
time from a staff member holding all of them, and checks that the doors of one operation
refuse (403/404, before reading the input) for the same missing permissions.

Every request runs in a savepoint that is rolled back, so each one meets the same data.
The admin has its own test, model by model.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import traceback
from collections.abc import Callable, Iterator
from copy import deepcopy
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import AnonymousUser, Permission
from django.db import connection, transaction
from django.db.models import Model
from django.http import HttpResponseBase
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.views import View
from rest_framework.parsers import JSONParser
from rest_framework.views import APIView

from retainer.accounts import actions as account_actions
from retainer.accounts.choices import Role
from retainer.automation.tests.world import url_objects as automation_url_objects
from retainer.billing import actions as billing_actions
from retainer.billing.rules import parse_period
from retainer.billing.tests.services_world import url_objects as services_url_objects
from retainer.cases import actions as case_actions
from retainer.catalog import actions as catalog_actions
from retainer.contracts import actions as contract_actions
from retainer.contracts.choices import Preset
from retainer.contracts.terms import preset_terms
from retainer.imports.models import ImportRun
from retainer.kb import actions as kb_actions
from retainer.mail import actions as mail_actions
from retainer.mail.actions.preferences import unsubscribe_token
from retainer.success.tests.world import survey_token as success_survey_token
from retainer.success.tests.world import url_objects as success_url_objects

ANON, CUSTOMER_ADMIN, CONTACT, OUTSIDER = "anonymous", "customer_admin", "contact", "outsider"
AGENT, BILLING, MANAGER, ADMIN = "agent", "billing", "manager", "admin"
ROLES = [ANON, CUSTOMER_ADMIN, CONTACT, OUTSIDER, AGENT, BILLING, MANAGER, ADMIN]
CUSTOMERS = [CUSTOMER_ADMIN, CONTACT, OUTSIDER]
STAFF = [AGENT, BILLING, MANAGER, ADMIN]
LOGIN = "login"  # a redirect to the sign-in page

GET, HEAD, POST, PUT, PATCH, DELETE = "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"
METHODS = (GET, HEAD, POST, PUT, PATCH, DELETE)


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
MANAGER_PAGE = {  # sales, publishing, the support dashboard: managers and admins
    ANON: LOGIN,
    **each(404, CUSTOMERS),
    **each(403, [AGENT, BILLING]),
    **each(200, [MANAGER, ADMIN]),
}
MANAGER_LIST = {ANON: 403, **each(403, [*CUSTOMERS, AGENT, BILLING]), **each(200, [MANAGER, ADMIN])}
ADMIN_PAGE = {
    ANON: LOGIN,
    **each(404, CUSTOMERS),
    **each(403, [AGENT, BILLING, MANAGER]),
    ADMIN: 200,
}
BILLING_PAGE = {
    ANON: LOGIN,
    **each(404, CUSTOMERS),
    AGENT: 403,
    **each(200, [BILLING, MANAGER, ADMIN]),
}

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
    "accounts:preferences": STAFF_PAGE,
    # API tokens: everyone signed in keeps their own; admins see all and make service tokens.
    "accounts:token_list": {ANON: LOGIN, **each(200, CUSTOMERS + STAFF)},
    "accounts:token_revoke": each(405, ROLES),
    "accounts:token_admin": {
        ANON: LOGIN,
        **each(404, CUSTOMERS),
        **each(403, [AGENT, BILLING, MANAGER]),
        ADMIN: 200,
    },
    # People: staff members for accounts.change_user (admins), teams for accounts.change_team.
    "accounts:people": MANAGER_PAGE,
    "accounts:staff_new": ADMIN_PAGE,
    "accounts:staff_edit": ADMIN_PAGE,
    "accounts:staff_active": ADMIN_PAGE,
    "accounts:team_new": MANAGER_PAGE,
    "accounts:team_edit": MANAGER_PAGE,
    "console:organization_detail": STAFF_PAGE,
    "accounts:portal_home": PORTAL_PAGE,
    "catalog:scope_of_support": PUBLIC,
    "catalog:product_list": STAFF_PAGE,
    "catalog:product_detail": STAFF_PAGE,
    "catalog:offering_list": STAFF_PAGE,
    **{  # the catalog's forms: only the roles that may write it see them
        f"catalog:{name}": {
            ANON: LOGIN,
            **each(404, CUSTOMERS),
            **each(403, [AGENT, BILLING]),
            **each(200, [MANAGER, ADMIN]),
        }
        for name in (
            "product_new",
            "product_edit",
            "release_new",
            "release_edit",
            "scope_policy_edit",
            "offering_new",
            "offering_edit",
        )
    },
    "catalog:offering_active": each(405, ROLES),
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
    "console:case_new": {  # the form only for those who may open a case
        ANON: LOGIN,
        **each(404, CUSTOMERS),
        BILLING: 403,
        **each(200, [AGENT, MANAGER, ADMIN]),
    },
    "console:case_preview": each(405, ROLES),
    "console:case_releases": STAFF_PAGE,
    "console:search": STAFF_PAGE,
    "console:csat_report": STAFF_PAGE,
    "console:team_overview": {  # those who manage teams: accounts.change_team
        ANON: LOGIN,
        **each(404, CUSTOMERS),
        **each(403, [AGENT, BILLING]),
        **each(200, [MANAGER, ADMIN]),
    },
    "console:sla_settings": STAFF_PAGE,
    **{  # SLA forms: only the roles that may change the SLA settings see them
        f"console:{name}": {
            ANON: LOGIN,
            **each(404, CUSTOMERS),
            **each(403, [AGENT, BILLING]),
            **each(200, [MANAGER, ADMIN]),
        }
        for name in ("calendar_new", "calendar_edit", "sla_target_new", "sla_target_edit")
    },
    "console:defect_list": STAFF_PAGE,
    "console:defect_detail": STAFF_PAGE,
    "console:defect_new": {
        ANON: LOGIN,
        **each(404, CUSTOMERS),
        BILLING: 403,
        **each(200, [AGENT, MANAGER, ADMIN]),
    },
    "console:defect_fix": each(405, ROLES),
    "console:defect_link": each(405, ROLES),
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
    **{  # the plan and sale forms: only the roles that may create plans or contracts
        f"contracts:{name}": {
            ANON: LOGIN,
            **each(404, CUSTOMERS),
            AGENT: 403,
            **each(200, [BILLING, MANAGER, ADMIN]),
        }
        for name in ("plan_new", "plan_edit", "contract_new")
    },
    "contracts:contract_named_contacts": STAFF_PAGE,
    "contracts:contract_rename": each(405, ROLES),
    "contracts:contract_top_up": each(405, ROLES),
    "contracts:contract_renew": each(405, ROLES),
    "contracts:contract_cancel": each(405, ROLES),
    "api:case_list": API_READ,
    "api:case_search": API_READ,
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
    **dict.fromkeys(
        [
            f"billing:{name}"
            for name in (
                "run_list",
                "run_detail",
                "invoice_list",
                "invoice_detail",
                "invoice_export_csv",
                "invoice_export_xlsx",
                "quote_list",
            )
        ],
        BILLING_PAGE,
    ),
    **{
        f"billing:{name}": each(405, ROLES)
        for name in (
            "run_start",
            "run_continue",
            "invoice_issue",
            "invoice_void",
            "invoice_paid",
            "invoice_credit",
            "quote_generate",
            "quote_accept",
        )
    },
    "operations:home": {
        ANON: LOGIN,
        **each(404, CUSTOMERS),
        **each(403, [AGENT, BILLING, MANAGER]),
        ADMIN: 200,
    },
    "operations:job_retry": each(405, ROLES),
    "operations:delivery_retry": each(405, ROLES),
    "imports:run_list": ADMIN_PAGE,
    "imports:run_detail": ADMIN_PAGE,
    # Sales and customer success.
    **dict.fromkeys(
        [
            f"success:{name}"
            for name in (
                "lead_list",
                "lead_detail",
                "opportunity_list",
                "opportunity_board",
                "opportunity_detail",
                "organization_success",
            )
        ],
        STAFF_PAGE,
    ),
    **dict.fromkeys(  # the lead and opportunity forms: only those who may sell (success.add_*)
        [f"success:{name}" for name in ("lead_new", "opportunity_new", "opportunity_edit")],
        MANAGER_PAGE,
    ),
    **{
        f"success:{name}": each(405, ROLES)
        for name in (
            "lead_convert",
            "lead_interaction",
            "opportunity_move",
            "opportunity_win",
            "opportunity_lose",
            "opportunity_interaction",
            "organization_interaction",
            "step_done",
        )
    },
    **dict.fromkeys(
        [
            f"api:{name}"
            for name in (
                "lead_list",
                "lead_detail",
                "pipeline_stage_list",
                "pipeline_stage_detail",
                "opportunity_list",
                "opportunity_detail",
                "interaction_list",
                "onboarding_plan_list",
                "onboarding_plan_detail",
            )
        ],
        API_STAFF_LIST,
    ),
    **dict.fromkeys(
        [
            f"api:{name}"
            for name in (
                "lead_convert",
                "opportunity_move",
                "opportunity_win",
                "opportunity_lose",
                "onboarding_step_done",
            )
        ],
        API_POST_ONLY,
    ),
    # Licenses: staff read every one, a customer contact their organization's.
    "success:license_list": STAFF_PAGE,
    **{
        f"success:{name}": each(405, ROLES)
        for name in ("license_new", "license_report", "license_upload")
    },
    "success:portal_license_list": PORTAL_PAGE,
    "api:license_list": API_READ,
    "api:license_detail": API_ACME_OBJECT,
    "api:license_usage": API_POST_ONLY,
    # Success plans, health and the perception survey: staff read, customers read their plan.
    "success:plan_list": STAFF_PAGE,
    "success:plan_detail": STAFF_PAGE,
    "success:goal_edit": MANAGER_PAGE,
    "success:milestone_edit": MANAGER_PAGE,
    **{
        f"success:{name}": each(405, ROLES)
        for name in ("plan_edit", "goal_new", "survey_send", "milestone_new", "milestone_done")
    },
    "success:portal_plan": PORTAL_PAGE,
    "success:survey_answer": PUBLIC,  # the signed link is the authorization
    "api:success_plan_list": API_READ,
    "api:success_plan_detail": API_ACME_OBJECT,
    **dict.fromkeys(
        [
            f"api:{name}"
            for name in (
                "success_goal_list",
                "success_goal_detail",
                "milestone_list",
                "milestone_detail",
                "milestone_done",
            )
        ],
        API_POST_ONLY,
    ),
    "api:perception_survey_list": API_STAFF_LIST,
    # Training: staff read, managers and admins write; customers read their enrollments.
    "success:course_list": STAFF_PAGE,
    "success:course_detail": STAFF_PAGE,
    "success:session_detail": STAFF_PAGE,
    "success:course_new": MANAGER_PAGE,
    "success:course_edit": MANAGER_PAGE,
    **{
        f"success:{name}": each(405, ROLES)
        for name in (
            "session_new",
            "enrollment_new",
            "enrollment_complete",
            "enrollment_no_show",
            "enrollment_cancel",
        )
    },
    "success:portal_training": PORTAL_PAGE,
    **dict.fromkeys(
        [
            f"api:{name}"
            for name in (
                "course_list",
                "course_detail",
                "training_session_list",
                "training_session_detail",
            )
        ],
        API_STAFF_LIST,
    ),
    **dict.fromkeys(
        [
            f"api:{name}"
            for name in (
                "training_session_enroll",
                "enrollment_complete",
                "enrollment_no_show",
                "enrollment_cancel",
            )
        ],
        API_POST_ONLY,
    ),
    "api:enrollment_list": API_READ,
    "api:enrollment_detail": API_ACME_OBJECT,
    "api:certificate_list": API_READ,
    "api:health_score_list": API_STAFF_LIST,
    "api:health_score_detail": API_STAFF_LIST,
    # The knowledge base: the console, the public help centre and the API.
    "kb:article_list": STAFF_PAGE,
    "kb:article_detail": STAFF_PAGE,
    "kb:article_diff": STAFF_PAGE,
    "kb:category_list": STAFF_PAGE,
    "kb:article_new": {
        ANON: LOGIN,
        **each(404, CUSTOMERS),
        BILLING: 403,
        **each(200, [AGENT, MANAGER, ADMIN]),
    },
    # The world's article is published: editing it is a publisher's (kb.publish_article).
    "kb:article_edit": MANAGER_PAGE,
    "kb:category_edit": MANAGER_PAGE,
    "kb:article_publish": each(405, ROLES),
    "kb:article_archive": each(405, ROLES),
    "kb:help_home": PUBLIC,
    "kb:help_article": PUBLIC,  # a public article; see retainer/kb/tests/test_visibility.py
    "kb:help_article_view": each(405, ROLES),  # counted by a POST once the page is shown
    "kb:help_article_feedback": each(405, ROLES),
    "kb:suggestions": each(405, ROLES),  # posted by the portal's new-case form as it is typed
    "kb:suggestion_solved": PORTAL_PAGE,  # the confirmation after "This solved my problem"
    "kb:suggestion_case_new": each(405, ROLES),
    # The case page's knowledge block: staff who read articles and change cases.
    "kb:case_article_search": {
        ANON: LOGIN,
        **each(404, CUSTOMERS),
        **each(200, [AGENT, MANAGER, ADMIN]),
        BILLING: 404,  # may not change cases: the case is not found for writing
    },
    "kb:case_article_link": each(405, ROLES),
    "kb:case_article_unlink": each(405, ROLES),
    "kb:article_from_case": each(405, ROLES),
    "api:article_feedback": API_POST_ONLY,
    "api:deflection_events": API_POST_ONLY,
    "api:article_list": API_READ,
    "api:article_detail": API_READ,
    "api:article_publish": API_POST_ONLY,
    "api:article_archive": API_POST_ONLY,
    "api:article_revisions": API_STAFF_ONLY,
    "api:article_search": API_READ,
    "api:category_list": API_READ,
    # E-mail: the console's Mail page (every staff role reads it).
    "mail:inbound_list": STAFF_PAGE,
    "mail:inbound_detail": STAFF_PAGE,
    "mail:outbound_list": STAFF_PAGE,
    "mail:inbound_open_case": each(405, ROLES),
    "mail:inbound_attach": each(405, ROLES),
    "mail:inbound_reject": each(405, ROLES),
    "mail:outbound_retry": each(405, ROLES),
    "mail:mailbox_new": MANAGER_PAGE,
    "mail:mailbox_edit": MANAGER_PAGE,
    # Everyone's own e-mail notifications; the unsubscribe link needs no sign-in.
    "mail:preferences": {ANON: LOGIN, **each(200, CUSTOMERS + STAFF)},
    "mail:unsubscribe": PUBLIC,
    # Metrics: support figures for managers and admins, revenue also for billing.
    **dict.fromkeys(
        ["metrics:overview", "metrics:support", "metrics:drill_down"],  # drill-down: backlog
        MANAGER_PAGE,
    ),
    **dict.fromkeys(
        ["metrics:revenue", "metrics:export_csv", "metrics:export_xlsx"],  # export: MRR table
        BILLING_PAGE,
    ),
    "api:metrics_revenue": BILLING_LIST,
    "api:metrics_support": MANAGER_LIST,
    "metrics:agent": STAFF_PAGE,  # one's own work (another's: retainer/metrics/tests)
    # An organization's health: managers and admins for any organization (Acme here); a
    # customer admin for their own only (another organization: retainer/metrics/tests).
    "metrics:organization_health": MANAGER_PAGE,
    "api:metrics_organization_health": {
        ANON: 403,
        CUSTOMER_ADMIN: 200,
        **each(403, [CONTACT, OUTSIDER, AGENT, BILLING]),
        **each(200, [MANAGER, ADMIN]),
    },
    "metrics:portal_health": {
        ANON: LOGIN,
        CUSTOMER_ADMIN: 200,
        **each(403, [CONTACT, OUTSIDER]),
        **each(404, STAFF),
    },
    # Automation: webhooks are the admins' (a staff member without the permission does not
    # learn an endpoint exists: 404), macros the agents' and managers'.
    **{
        name: {
            ANON: LOGIN,
            **each(404, CUSTOMERS),
            **each(403, [AGENT, BILLING, MANAGER]),
            ADMIN: 200,
        }
        for name in ("automation:endpoint_list", "automation:endpoint_new")
    },
    **{
        name: {ANON: LOGIN, **each(404, [*CUSTOMERS, AGENT, BILLING, MANAGER]), ADMIN: 200}
        for name in ("automation:endpoint_detail", "automation:endpoint_edit")
    },
    **{
        f"automation:{name}": each(405, ROLES)
        for name in ("endpoint_disable", "endpoint_enable", "endpoint_rotate", "delivery_replay")
    },
    **{
        name: {
            ANON: LOGIN,
            **each(404, CUSTOMERS),
            BILLING: 403,
            **each(200, [AGENT, MANAGER, ADMIN]),
        }
        for name in ("automation:macro_list", "automation:macro_new")
    },
    # The world's macro is shared: managers and admins edit it, agents use it.
    "automation:macro_edit": {
        ANON: LOGIN,
        **each(404, [*CUSTOMERS, BILLING]),
        AGENT: 403,
        **each(200, [MANAGER, ADMIN]),
    },
    # Without ?macro= the picker's answer is a 400; billing clerks use no macros.
    "automation:macro_apply": {
        ANON: LOGIN,
        **each(404, CUSTOMERS),
        BILLING: 403,
        **each(400, [AGENT, MANAGER, ADMIN]),
    },
    # Rules: ``automation.manage_rule`` (managers and admins).
    **dict.fromkeys(
        ["automation:rule_list", "automation:rule_new", "automation:firing_list"], MANAGER_PAGE
    ),
    **{
        name: {
            ANON: LOGIN,
            **each(404, [*CUSTOMERS, AGENT, BILLING]),
            **each(200, [MANAGER, ADMIN]),
        }
        for name in ("automation:rule_detail", "automation:rule_edit")
    },
    **{
        f"automation:{name}": each(405, ROLES)
        for name in ("rule_activate", "rule_deactivate", "rule_move")
    },
    "api:webhook_list": {ANON: 403, **each(403, [*CUSTOMERS, AGENT, BILLING, MANAGER]), ADMIN: 200},
    **{
        name: {ANON: 403, **each(404, [*CUSTOMERS, AGENT, BILLING, MANAGER]), ADMIN: 200}
        for name in ("api:webhook_detail", "api:webhook_delivery_list")
    },
    **dict.fromkeys(
        [
            f"api:webhook_{name}"
            for name in ("disable", "enable", "rotate_secret", "delivery_replay")
        ],
        API_POST_ONLY,
    ),
    # Professional services: quotes and engagements (docs/billing.md, "Services").
    **dict.fromkeys(
        [
            f"billing:{name}"
            for name in ("service_quote_list", "service_quote_detail", "engagement_detail")
        ],
        BILLING_PAGE,
    ),
    "billing:service_quote_new": {  # the form only for those who may quote
        ANON: LOGIN,
        **each(404, CUSTOMERS),
        **each(403, [AGENT, MANAGER]),
        **each(200, [BILLING, ADMIN]),
    },
    **{
        f"billing:{name}": each(405, ROLES)
        for name in (
            "service_quote_send",
            "service_quote_withdraw",
            "engagement_split",
            "engagement_time",
            "milestone_deliver",
            "portal_service_quote_accept",
            "portal_service_quote_decline",
        )
    },
    "billing:portal_service_quote_list": PORTAL_PAGE,
    "billing:portal_service_quote_detail": {
        ANON: LOGIN,
        CUSTOMER_ADMIN: 200,
        CONTACT: 200,
        OUTSIDER: 404,
        **each(404, STAFF),
    },
    **{
        name: {**BILLING_LIST, **each(200, CUSTOMERS)}
        for name in ("api:service_quote_list", "api:engagement_list")
    },
    **{
        name: {**BILLING_LIST, CUSTOMER_ADMIN: 200, CONTACT: 200, OUTSIDER: 404}
        for name in (
            "api:service_quote_detail",
            "api:engagement_detail",
            "api:engagement_time_entries",
        )
    },
    **dict.fromkeys(
        [
            f"api:{name}"
            for name in (
                "service_quote_send",
                "service_quote_withdraw",
                "service_quote_accept",
                "service_quote_decline",
                "engagement_milestones",
                "engagement_milestone_deliver",
            )
        ],
        API_POST_ONLY,
    ),
}


# --- Who may write -------------------------------------------------------------------------

Roles = frozenset[str]

EVERYONE: Roles = frozenset(ROLES)
CONSOLE: Roles = frozenset(STAFF)  # the audience of the console's doors
PORTAL: Roles = frozenset(CUSTOMERS)  # the audience of the portal's doors
ACME_CUSTOMERS: Roles = frozenset({CUSTOMER_ADMIN, CONTACT})  # see the Acme case and contract

# Staff roles by the permissions they hold (retainer/accounts/roles.py).
STAFF_READ: Roles = frozenset(STAFF)  # every staff role reads contracts and cases
STAFF_WRITE: Roles = frozenset({AGENT, MANAGER, ADMIN})  # cases.*, contacts
OVERRIDERS: Roles = frozenset({AGENT, BILLING, MANAGER, ADMIN})  # decisions
CONTRACT_WRITE: Roles = frozenset({BILLING, MANAGER, ADMIN})  # contracts.add_*/change_*
ORGANIZATION_WRITE: Roles = frozenset({BILLING, MANAGER, ADMIN})
MANAGER_WRITE: Roles = frozenset({MANAGER, ADMIN})  # catalog.*, new organizations
BILLING_WRITE: Roles = frozenset({BILLING, ADMIN})  # billing.*
CUSTOMER_WRITE: Roles = ACME_CUSTOMERS  # customers of the case's organization

# Operations, each with the permission the API names for it. A door narrows the roles to
# its audience (``& CONSOLE``, ``& PORTAL``); it never asks for another permission.
OPEN_CASE = STAFF_WRITE | PORTAL  # cases.add_case; any active contact for their organization
EDIT_CASE = STAFF_WRITE  # cases.change_case: assign, severity, priority, fields
REPLY = STAFF_WRITE | CUSTOMER_WRITE  # a reply, a note or a file on a case
TRANSITION = STAFF_WRITE | CUSTOMER_WRITE  # customers within their own moves
LINK_DEFECT = STAFF_WRITE  # cases.change_case
LOG_TIME = STAFF_WRITE  # cases.add_timeentry (typed, or from the timer)
CHANGE_TIME = STAFF_WRITE  # cases.change_timeentry
ADD_DEFECT = STAFF_WRITE  # cases.add_defect
CHANGE_DEFECT = STAFF_WRITE  # cases.change_defect
SLA_SETTINGS = MANAGER_WRITE  # cases.add_/change_businesscalendar, cases.add_/change_slatarget
CSAT = CUSTOMER_WRITE  # the survey, answered by the requester's organization
OVERRIDE = OVERRIDERS  # contracts.override_entitlementdecision
RECORD_DECISION = OVERRIDERS  # contracts.add_entitlementdecision
PREVIEW_DECISION = STAFF_READ  # contracts.view_contract
TOP_UP = CONTRACT_WRITE  # contracts.add_ledgerentry
LEDGER = CONTRACT_WRITE  # contracts.add_ledgerentry: consumptions, reversals
ADD_CONTRACT = CONTRACT_WRITE  # contracts.add_contract
RENEW = CONTRACT_WRITE  # contracts.change_contract + contracts.add_contract
CANCEL = CONTRACT_WRITE  # contracts.change_contract
ADD_PLAN = CONTRACT_WRITE  # contracts.add_supportplan
ADD_TRAINING = CONTRACT_WRITE  # contracts.add_trainingrecord
CATALOG = MANAGER_WRITE  # catalog.add_* / catalog.change_*
ADD_ORGANIZATION = MANAGER_WRITE  # accounts.add_organization
CHANGE_ORGANIZATION = ORGANIZATION_WRITE  # accounts.change_organization
ADD_CONTACT = STAFF_WRITE  # accounts.add_contact
ADD_STAFF: Roles = frozenset({ADMIN})  # accounts.add_user
CHANGE_STAFF: Roles = frozenset({ADMIN})  # accounts.change_user: name, roles, (de)activation
ADD_TEAM = MANAGER_WRITE  # accounts.add_team
CHANGE_TEAM = MANAGER_WRITE  # accounts.change_team
MANAGE_CONTACT = STAFF_WRITE | {CUSTOMER_ADMIN}  # accounts.change_contact, or the customer admin
BILL = BILLING_WRITE  # billing.add_* / billing.change_*
OPERATE: Roles = frozenset({ADMIN})  # lib.change_outboxdelivery: retry failed work
IMPORT: Roles = frozenset({ADMIN})  # imports.add_importrun: import a CSV file
ACCEPT_QUOTE = BILLING_WRITE  # billing.change_renewalquote + contracts.change_contract
START_RUN = BILL  # billing.add_billingrun: start or continue a run
CHANGE_INVOICE = BILL  # billing.change_invoice: issue, void, mark paid
CREDIT = BILL  # billing.add_creditnote
GENERATE_QUOTES = BILL  # billing.add_renewalquote
SELL = MANAGER_WRITE  # success.* (no sales role: managers and admins sell)
CREATE_LEAD = SELL  # success.add_lead
CHANGE_LEAD = SELL  # success.change_lead
CONVERT_LEAD = SELL  # success.change_lead + add_opportunity, accounts.add_organization/contact
ADD_OPPORTUNITY = SELL  # success.add_opportunity
CHANGE_OPPORTUNITY = SELL  # success.change_opportunity: edit, move, lose
WIN = SELL  # success.change_opportunity + contracts.add_contract + success.add_onboardingplan
LOG_INTERACTION = SELL  # success.add_interaction
CHANGE_ONBOARDING = SELL  # success.change_onboardingplan
ADD_STAGE = SELL  # success.add_stage
CHANGE_STAGE = SELL  # success.change_stage
ADD_LICENSE = SELL  # success.add_license
REPORT_USAGE = SELL  # success.add_licenseusage + success.change_licenseusage (a report replaces)
CHANGE_PLAN = SELL  # success.change_successplan: owner, summary, ROI
ADD_GOAL = SELL  # success.add_successgoal
CHANGE_GOAL = SELL  # success.change_successgoal
ADD_MILESTONE = SELL  # success.add_milestone
CHANGE_MILESTONE = SELL  # success.change_milestone: edit, mark done, open again
SEND_SURVEY = SELL  # success.add_perceptionsurvey
ADD_COURSE = SELL  # success.add_course
CHANGE_COURSE = SELL  # success.change_course
SCHEDULE_SESSION = SELL  # success.add_trainingsession
ENROLL = SELL  # success.add_enrollment
CHANGE_ENROLLMENT = SELL  # success.change_enrollment: complete, no-show, cancel
ADD_ARTICLE = STAFF_WRITE  # kb.add_article: write a draft
LINK_ARTICLE = STAFF_WRITE  # kb.view_article + cases.change_case: link an article to a case
PUBLISH_ARTICLE = MANAGER_WRITE  # kb.publish_article: publish, archive, edit a published one
KB_CATEGORIES = MANAGER_WRITE  # kb.add_category + kb.change_category
MAIL_REVIEW = STAFF_WRITE  # mail.change_inboundmessage: decide about a message in review
MAIL_RETRY = MANAGER_WRITE  # mail.change_outboundmessage: send a failed e-mail again
MAILBOXES = MANAGER_WRITE  # mail.add_mailbox + mail.change_mailbox
WEBHOOKS: Roles = frozenset({ADMIN})  # automation.change_webhookendpoint
ADD_WEBHOOK = WEBHOOKS  # automation.add_webhookendpoint
REPLAY_WEBHOOK = WEBHOOKS  # automation.change_webhookdelivery
MACROS = STAFF_WRITE  # automation.add_macro: personal macros
SHARED_MACROS = MANAGER_WRITE  # automation.change_macro + automation.manage_shared_macro
RULES: Roles = frozenset({MANAGER, ADMIN})  # automation.manage_rule
QUOTE_SERVICES = BILL  # billing.add_servicequote: quote an offering (case or organization)
CHANGE_SERVICE_QUOTE = BILL  # billing.change_servicequote: send, withdraw
CHANGE_ENGAGEMENT = BILL  # billing.change_engagement: split milestones, deliver one
LOG_SERVICE_TIME = BILL  # billing.add_engagementtimeentry
# Accept or decline a quote: the case's requester (the cast's contact) or a customer admin.
DECIDE_SERVICE_QUOTE = ACME_CUSTOMERS

# The permissions each operation needs: the ones the API checks for it. Its staff roles
# above are exactly the holders of these permissions (pinned by a test below).
PERMISSIONS: dict[str, tuple[Roles, tuple[str, ...]]] = {
    "OPEN_CASE": (OPEN_CASE, ("cases.add_case",)),
    "EDIT_CASE": (EDIT_CASE, ("cases.change_case",)),
    "REPLY": (REPLY, ("cases.change_case",)),
    "TRANSITION": (TRANSITION, ("cases.change_case",)),
    "LINK_DEFECT": (LINK_DEFECT, ("cases.change_case",)),
    "LOG_TIME": (LOG_TIME, ("cases.add_timeentry",)),
    "CHANGE_TIME": (CHANGE_TIME, ("cases.change_timeentry",)),
    "ADD_DEFECT": (ADD_DEFECT, ("cases.add_defect",)),
    "CHANGE_DEFECT": (CHANGE_DEFECT, ("cases.change_defect",)),
    "SLA_SETTINGS": (
        SLA_SETTINGS,
        (
            "cases.add_businesscalendar",
            "cases.change_businesscalendar",
            "cases.add_slatarget",
            "cases.change_slatarget",
        ),
    ),
    "OVERRIDE": (OVERRIDE, ("contracts.override_entitlementdecision",)),
    "RECORD_DECISION": (RECORD_DECISION, ("contracts.add_entitlementdecision",)),
    "PREVIEW_DECISION": (PREVIEW_DECISION, ("contracts.view_contract",)),
    "TOP_UP": (TOP_UP, ("contracts.add_ledgerentry",)),
    "LEDGER": (LEDGER, ("contracts.add_ledgerentry",)),
    "ADD_CONTRACT": (ADD_CONTRACT, ("contracts.add_contract",)),
    "RENEW": (RENEW, ("contracts.change_contract", "contracts.add_contract")),
    "CANCEL": (CANCEL, ("contracts.change_contract",)),
    "ADD_PLAN": (ADD_PLAN, ("contracts.add_supportplan",)),
    "ADD_TRAINING": (ADD_TRAINING, ("contracts.add_trainingrecord",)),
    "CATALOG": (CATALOG, ("catalog.add_product", "catalog.change_product")),
    "ADD_ORGANIZATION": (ADD_ORGANIZATION, ("accounts.add_organization",)),
    "CHANGE_ORGANIZATION": (CHANGE_ORGANIZATION, ("accounts.change_organization",)),
    "ADD_CONTACT": (ADD_CONTACT, ("accounts.add_contact",)),
    "ADD_STAFF": (ADD_STAFF, ("accounts.add_user",)),
    "CHANGE_STAFF": (CHANGE_STAFF, ("accounts.change_user",)),
    "ADD_TEAM": (ADD_TEAM, ("accounts.add_team",)),
    "CHANGE_TEAM": (CHANGE_TEAM, ("accounts.change_team",)),
    "MANAGE_CONTACT": (MANAGE_CONTACT, ("accounts.change_contact",)),
    "BILL": (BILL, ("billing.add_invoice", "billing.change_invoice")),
    "ACCEPT_QUOTE": (ACCEPT_QUOTE, ("billing.change_renewalquote", "contracts.change_contract")),
    "START_RUN": (START_RUN, ("billing.add_billingrun",)),
    "CHANGE_INVOICE": (CHANGE_INVOICE, ("billing.change_invoice",)),
    "CREDIT": (CREDIT, ("billing.add_creditnote",)),
    "GENERATE_QUOTES": (GENERATE_QUOTES, ("billing.add_renewalquote",)),
    "OPERATE": (OPERATE, ("lib.change_outboxdelivery",)),
    "CREATE_LEAD": (CREATE_LEAD, ("success.add_lead",)),
    "CHANGE_LEAD": (CHANGE_LEAD, ("success.change_lead",)),
    "CONVERT_LEAD": (
        CONVERT_LEAD,
        (
            "success.change_lead",
            "success.add_opportunity",
            "accounts.add_organization",
            "accounts.add_contact",
        ),
    ),
    "ADD_OPPORTUNITY": (ADD_OPPORTUNITY, ("success.add_opportunity",)),
    "ADD_LICENSE": (ADD_LICENSE, ("success.add_license",)),
    "REPORT_USAGE": (
        REPORT_USAGE,
        ("success.add_licenseusage", "success.change_licenseusage"),
    ),
    "CHANGE_OPPORTUNITY": (CHANGE_OPPORTUNITY, ("success.change_opportunity",)),
    "CHANGE_PLAN": (CHANGE_PLAN, ("success.change_successplan",)),
    "ADD_GOAL": (ADD_GOAL, ("success.add_successgoal",)),
    "CHANGE_GOAL": (CHANGE_GOAL, ("success.change_successgoal",)),
    "ADD_MILESTONE": (ADD_MILESTONE, ("success.add_milestone",)),
    "CHANGE_MILESTONE": (CHANGE_MILESTONE, ("success.change_milestone",)),
    "SEND_SURVEY": (SEND_SURVEY, ("success.add_perceptionsurvey",)),
    "ADD_COURSE": (ADD_COURSE, ("success.add_course",)),
    "CHANGE_COURSE": (CHANGE_COURSE, ("success.change_course",)),
    "SCHEDULE_SESSION": (SCHEDULE_SESSION, ("success.add_trainingsession",)),
    "ENROLL": (ENROLL, ("success.add_enrollment",)),
    "CHANGE_ENROLLMENT": (CHANGE_ENROLLMENT, ("success.change_enrollment",)),
    "WIN": (
        WIN,
        ("success.change_opportunity", "contracts.add_contract", "success.add_onboardingplan"),
    ),
    "LOG_INTERACTION": (LOG_INTERACTION, ("success.add_interaction",)),
    "CHANGE_ONBOARDING": (CHANGE_ONBOARDING, ("success.change_onboardingplan",)),
    "ADD_STAGE": (ADD_STAGE, ("success.add_stage",)),
    "CHANGE_STAGE": (CHANGE_STAGE, ("success.change_stage",)),
    "ADD_ARTICLE": (ADD_ARTICLE, ("kb.add_article",)),
    "PUBLISH_ARTICLE": (PUBLISH_ARTICLE, ("kb.publish_article",)),
    "KB_CATEGORIES": (KB_CATEGORIES, ("kb.add_category", "kb.change_category")),
    "MAIL_REVIEW": (MAIL_REVIEW, ("mail.change_inboundmessage",)),
    "MAIL_RETRY": (MAIL_RETRY, ("mail.change_outboundmessage",)),
    "MAILBOXES": (MAILBOXES, ("mail.add_mailbox", "mail.change_mailbox")),
    "WEBHOOKS": (WEBHOOKS, ("automation.change_webhookendpoint",)),
    "ADD_WEBHOOK": (ADD_WEBHOOK, ("automation.add_webhookendpoint",)),
    "REPLAY_WEBHOOK": (REPLAY_WEBHOOK, ("automation.change_webhookdelivery",)),
    "MACROS": (MACROS, ("automation.add_macro",)),
    "RULES": (RULES, ("automation.manage_rule",)),
    "SHARED_MACROS": (
        SHARED_MACROS,
        ("automation.change_macro", "automation.manage_shared_macro"),
    ),
    "QUOTE_SERVICES": (QUOTE_SERVICES, ("billing.add_servicequote",)),
    "CHANGE_SERVICE_QUOTE": (CHANGE_SERVICE_QUOTE, ("billing.change_servicequote",)),
    "CHANGE_ENGAGEMENT": (CHANGE_ENGAGEMENT, ("billing.change_engagement",)),
    "LOG_SERVICE_TIME": (LOG_SERVICE_TIME, ("billing.add_engagementtimeentry",)),
}

# URL name -> method -> the roles the permission check lets through, for every method the
# route takes other than GET and HEAD.
WRITES: dict[str, dict[str, Roles]] = {
    # Signing in and out, and the signed survey link: open to everyone.
    "accounts:login": {POST: EVERYONE, PUT: EVERYONE},
    "accounts:logout": {POST: EVERYONE},
    "accounts:magic_link_request": {POST: EVERYONE},
    "accounts:magic_link": {POST: EVERYONE},
    "accounts:preferences": {POST: CONSOLE},  # each staff member's own preferences
    "accounts:token_list": {POST: CONSOLE | PORTAL},  # each person's own API tokens
    # The world's token is the agent's: its owner, or accounts.manage_service_tokens.
    "accounts:token_revoke": {POST: frozenset({AGENT, ADMIN})},
    "accounts:token_admin": {POST: frozenset({ADMIN})},  # accounts.manage_service_tokens
    "accounts:staff_new": {POST: ADD_STAFF & CONSOLE},
    "accounts:staff_edit": {POST: CHANGE_STAFF & CONSOLE},
    "accounts:staff_active": {POST: CHANGE_STAFF & CONSOLE},
    "accounts:team_new": {POST: ADD_TEAM & CONSOLE},
    "accounts:team_edit": {POST: CHANGE_TEAM & CONSOLE},
    "portal:csat": {POST: EVERYONE},
    "api:csat_by_token": {POST: EVERYONE},
    # The portal.
    "portal:case_new": {POST: OPEN_CASE & PORTAL},
    "portal:case_preview": {POST: PORTAL},  # the contact's own request; writes nothing
    "portal:case_reply": {POST: REPLY & PORTAL},
    "portal:case_transition": {POST: TRANSITION & PORTAL},
    "portal:case_csat": {POST: CSAT & PORTAL},
    # The console.
    "console:case_reply": {POST: REPLY & CONSOLE},
    "console:case_transition": {POST: TRANSITION & CONSOLE},
    "console:case_assign": {POST: EDIT_CASE & CONSOLE},
    "console:case_fields": {POST: EDIT_CASE & CONSOLE},
    "console:case_defect": {POST: LINK_DEFECT & CONSOLE},
    "console:case_override": {POST: OVERRIDE & CONSOLE},
    "console:case_time": {POST: LOG_TIME & CONSOLE},
    "console:timer_start": {POST: LOG_TIME & CONSOLE},
    "console:timer_stop": {POST: LOG_TIME & CONSOLE},
    "console:case_new": {POST: OPEN_CASE & CONSOLE},
    "console:case_preview": {POST: PREVIEW_DECISION & CONSOLE},  # writes nothing
    "console:calendar_new": {POST: SLA_SETTINGS & CONSOLE},
    "console:calendar_edit": {POST: SLA_SETTINGS & CONSOLE},
    "console:sla_target_new": {POST: SLA_SETTINGS & CONSOLE},
    "console:sla_target_edit": {POST: SLA_SETTINGS & CONSOLE},
    "console:defect_new": {POST: ADD_DEFECT & CONSOLE},
    "console:defect_fix": {POST: CHANGE_DEFECT & CONSOLE},
    "console:defect_link": {POST: LINK_DEFECT & CONSOLE},
    "contracts:contract_top_up": {POST: TOP_UP & CONSOLE},
    "contracts:contract_renew": {POST: RENEW & CONSOLE},
    "contracts:contract_cancel": {POST: CANCEL & CONSOLE},
    "contracts:contract_rename": {POST: CANCEL & CONSOLE},  # contracts.change_contract
    "contracts:contract_named_contacts": {POST: CANCEL & CONSOLE},  # contracts.change_contract
    "contracts:contract_new": {POST: ADD_CONTRACT & CONSOLE},
    "contracts:plan_new": {POST: ADD_PLAN & CONSOLE},
    "contracts:plan_edit": {POST: ADD_PLAN & CONSOLE},
    "catalog:product_new": {POST: CATALOG & CONSOLE},
    "catalog:product_edit": {POST: CATALOG & CONSOLE},
    "catalog:release_new": {POST: CATALOG & CONSOLE},
    "catalog:release_edit": {POST: CATALOG & CONSOLE},
    "catalog:scope_policy_edit": {POST: CATALOG & CONSOLE},
    "catalog:offering_new": {POST: CATALOG & CONSOLE},
    "catalog:offering_edit": {POST: CATALOG & CONSOLE},
    "catalog:offering_active": {POST: CATALOG & CONSOLE},
    # The API: organizations and contacts.
    "api:organization_list": {POST: ADD_ORGANIZATION},
    "api:organization_detail": {PATCH: CHANGE_ORGANIZATION},
    "api:contact_list": {POST: ADD_CONTACT},
    "api:contact_detail": {PATCH: MANAGE_CONTACT},
    "api:contact_deactivate": {POST: MANAGE_CONTACT},
    "api:contact_reactivate": {POST: MANAGE_CONTACT},
    # The catalog.
    "api:product_list": {POST: CATALOG},
    "api:product_detail": {PATCH: CATALOG},
    "api:release_list": {POST: CATALOG},
    "api:release_detail": {PATCH: CATALOG},
    "api:scope_policy": {PUT: CATALOG},
    "api:environment_list": {POST: CATALOG},
    "api:environment_detail": {PATCH: CATALOG},
    "api:offering_list": {POST: CATALOG},
    "api:offering_detail": {PATCH: CATALOG},
    # Cases.
    "api:case_list": {POST: OPEN_CASE},
    "api:case_detail": {PATCH: EDIT_CASE},
    "api:case_transition": {POST: TRANSITION},
    "api:case_override": {POST: OVERRIDE},
    "api:case_messages": {POST: REPLY},
    "api:case_attachments": {POST: REPLY},
    "api:case_time_entries": {POST: LOG_TIME},
    "api:case_time_entry_detail": {PATCH: CHANGE_TIME, DELETE: CHANGE_TIME},
    "api:case_defect_link": {POST: LINK_DEFECT},
    "api:case_csat": {POST: CSAT},
    "api:defect_list": {POST: ADD_DEFECT},
    "api:defect_fix_release": {POST: CHANGE_DEFECT},
    # Plans, contracts, ledgers and decisions.
    "api:plan_list": {POST: ADD_PLAN},
    "api:plan_new_version": {POST: ADD_PLAN},
    "api:contract_list": {POST: ADD_CONTRACT},
    "api:contract_renew": {POST: RENEW},
    "api:contract_cancel": {POST: CANCEL},
    "api:contract_top_up": {POST: TOP_UP},
    "api:contract_consume": {POST: LEDGER},
    "api:contract_reverse": {POST: LEDGER},
    "api:decision_list": {POST: RECORD_DECISION},
    "api:decision_override": {POST: OVERRIDE},
    "api:decision_preview": {POST: PREVIEW_DECISION},
    "api:training_record_list": {POST: ADD_TRAINING},
    # Billing.
    "api:billing_run_list": {POST: BILL},
    "api:billing_run_start": {POST: BILL},
    "api:invoice_list": {POST: BILL},
    "api:invoice_detail": {PATCH: BILL},
    "api:invoice_lines": {POST: BILL},
    "api:invoice_issue": {POST: BILL},
    "api:invoice_void": {POST: BILL},
    "api:invoice_paid": {POST: BILL},
    "api:credit_note_list": {POST: BILL},
    "api:renewal_quote_generate": {POST: BILL},
    "api:renewal_quote_accept": {POST: ACCEPT_QUOTE},
    # The billing console.
    "billing:run_start": {POST: START_RUN & CONSOLE},
    "billing:run_continue": {POST: START_RUN & CONSOLE},
    "billing:invoice_issue": {POST: CHANGE_INVOICE & CONSOLE},
    "billing:invoice_void": {POST: CHANGE_INVOICE & CONSOLE},
    "billing:invoice_paid": {POST: CHANGE_INVOICE & CONSOLE},
    "billing:invoice_credit": {POST: CREDIT & CONSOLE},
    "billing:quote_generate": {POST: GENERATE_QUOTES & CONSOLE},
    "billing:quote_accept": {POST: ACCEPT_QUOTE & CONSOLE},
    # Operations.
    "operations:job_retry": {POST: OPERATE},
    "operations:delivery_retry": {POST: OPERATE},
    "imports:run_list": {POST: IMPORT & CONSOLE},
    # Sales and customer success.
    "success:lead_new": {POST: CREATE_LEAD & CONSOLE},
    "success:lead_convert": {POST: CONVERT_LEAD & CONSOLE},
    "success:lead_interaction": {POST: LOG_INTERACTION & CONSOLE},
    "success:opportunity_new": {POST: ADD_OPPORTUNITY & CONSOLE},
    "success:opportunity_move": {POST: CHANGE_OPPORTUNITY & CONSOLE},
    "success:opportunity_edit": {POST: CHANGE_OPPORTUNITY & CONSOLE},
    "success:opportunity_lose": {POST: CHANGE_OPPORTUNITY & CONSOLE},
    "success:opportunity_win": {POST: WIN & CONSOLE},
    "success:opportunity_interaction": {POST: LOG_INTERACTION & CONSOLE},
    "success:organization_interaction": {POST: LOG_INTERACTION & CONSOLE},
    "success:step_done": {POST: CHANGE_ONBOARDING & CONSOLE},
    "api:lead_list": {POST: CREATE_LEAD},
    "api:lead_detail": {PATCH: CHANGE_LEAD},
    "api:lead_convert": {POST: CONVERT_LEAD},
    "api:pipeline_stage_list": {POST: ADD_STAGE},
    "api:pipeline_stage_detail": {PATCH: CHANGE_STAGE},
    "api:opportunity_list": {POST: ADD_OPPORTUNITY},
    "api:opportunity_detail": {PATCH: CHANGE_OPPORTUNITY},
    "api:opportunity_move": {POST: CHANGE_OPPORTUNITY},
    "api:opportunity_lose": {POST: CHANGE_OPPORTUNITY},
    "api:opportunity_win": {POST: WIN},
    "api:interaction_list": {POST: LOG_INTERACTION},
    "api:onboarding_step_done": {POST: CHANGE_ONBOARDING},
    "success:license_new": {POST: ADD_LICENSE & CONSOLE},
    "success:license_report": {POST: REPORT_USAGE & CONSOLE},
    "success:license_upload": {POST: REPORT_USAGE & CONSOLE},
    "api:license_list": {POST: ADD_LICENSE},
    "api:license_usage": {POST: REPORT_USAGE},
    "success:plan_edit": {POST: CHANGE_PLAN & CONSOLE},
    "success:goal_new": {POST: ADD_GOAL & CONSOLE},
    "success:goal_edit": {POST: CHANGE_GOAL & CONSOLE},
    "success:milestone_new": {POST: ADD_MILESTONE & CONSOLE},
    "success:milestone_edit": {POST: CHANGE_MILESTONE & CONSOLE},
    "success:milestone_done": {POST: CHANGE_MILESTONE & CONSOLE},
    "success:survey_send": {POST: SEND_SURVEY & CONSOLE},
    "success:survey_answer": {POST: EVERYONE},
    "api:success_plan_list": {POST: CHANGE_PLAN},
    "api:success_plan_detail": {PATCH: CHANGE_PLAN},
    "api:success_goal_list": {POST: ADD_GOAL},
    "api:success_goal_detail": {PATCH: CHANGE_GOAL},
    "api:milestone_list": {POST: ADD_MILESTONE},
    "api:milestone_detail": {PATCH: CHANGE_MILESTONE},
    "api:milestone_done": {POST: CHANGE_MILESTONE},
    "api:perception_survey_list": {POST: SEND_SURVEY},
    "success:course_new": {POST: ADD_COURSE & CONSOLE},
    "success:course_edit": {POST: CHANGE_COURSE & CONSOLE},
    "success:session_new": {POST: SCHEDULE_SESSION & CONSOLE},
    "success:enrollment_new": {POST: ENROLL & CONSOLE},
    "success:enrollment_complete": {POST: CHANGE_ENROLLMENT & CONSOLE},
    "success:enrollment_no_show": {POST: CHANGE_ENROLLMENT & CONSOLE},
    "success:enrollment_cancel": {POST: CHANGE_ENROLLMENT & CONSOLE},
    "api:course_list": {POST: ADD_COURSE},
    "api:course_detail": {PATCH: CHANGE_COURSE},
    "api:training_session_list": {POST: SCHEDULE_SESSION},
    "api:training_session_enroll": {POST: ENROLL},
    "api:enrollment_complete": {POST: CHANGE_ENROLLMENT},
    "api:enrollment_no_show": {POST: CHANGE_ENROLLMENT},
    "api:enrollment_cancel": {POST: CHANGE_ENROLLMENT},
    # The knowledge base.
    "kb:article_new": {POST: ADD_ARTICLE & CONSOLE},
    "kb:article_edit": {POST: PUBLISH_ARTICLE & CONSOLE},  # the world's article is published
    "kb:article_publish": {POST: PUBLISH_ARTICLE & CONSOLE},
    "kb:article_archive": {POST: PUBLISH_ARTICLE & CONSOLE},
    "kb:category_list": {POST: KB_CATEGORIES & CONSOLE},
    "kb:category_edit": {POST: KB_CATEGORIES & CONSOLE},
    "api:article_list": {POST: ADD_ARTICLE},
    "api:article_detail": {PATCH: PUBLISH_ARTICLE},
    "api:article_publish": {POST: PUBLISH_ARTICLE},
    "api:article_archive": {POST: PUBLISH_ARTICLE},
    "api:category_list": {POST: KB_CATEGORIES},
    "kb:help_article_view": {POST: EVERYONE},  # whoever may read the (public) article
    "kb:help_article_feedback": {POST: EVERYONE},
    "kb:suggestions": {POST: PORTAL},
    "kb:suggestion_solved": {POST: PORTAL},
    "kb:suggestion_case_new": {POST: OPEN_CASE & PORTAL},  # the new-case form after suggestions
    "kb:case_article_link": {POST: LINK_ARTICLE & CONSOLE},  # empty: "choose an article"
    "kb:case_article_unlink": {POST: LINK_ARTICLE & CONSOLE},  # the world's article: not linked
    "kb:article_from_case": {POST: LINK_ARTICLE & ADD_ARTICLE & CONSOLE},  # the case is open
    "api:article_feedback": {POST: EVERYONE - {ANON}},
    "api:deflection_events": {POST: PORTAL},
    "mail:inbound_open_case": {POST: MAIL_REVIEW & CONSOLE},
    "mail:inbound_attach": {POST: MAIL_REVIEW & CONSOLE},
    "mail:inbound_reject": {POST: MAIL_REVIEW & CONSOLE},
    "mail:outbound_retry": {POST: MAIL_RETRY & CONSOLE},
    "mail:mailbox_new": {POST: MAILBOXES & CONSOLE},
    "mail:mailbox_edit": {POST: MAILBOXES & CONSOLE},
    "mail:preferences": {POST: CONSOLE | PORTAL},  # each person's own e-mail notifications
    "mail:unsubscribe": {POST: EVERYONE},  # the signed link is the permission
    # Automation.
    "automation:endpoint_new": {POST: ADD_WEBHOOK & CONSOLE},
    "automation:endpoint_edit": {POST: WEBHOOKS & CONSOLE},
    "automation:endpoint_disable": {POST: WEBHOOKS & CONSOLE},
    "automation:endpoint_enable": {POST: WEBHOOKS & CONSOLE},
    "automation:endpoint_rotate": {POST: WEBHOOKS & CONSOLE},
    "automation:delivery_replay": {POST: REPLAY_WEBHOOK & CONSOLE},
    "automation:rule_new": {POST: RULES & CONSOLE},
    "automation:rule_edit": {POST: RULES & CONSOLE},
    "automation:rule_activate": {POST: RULES & CONSOLE},
    "automation:rule_deactivate": {POST: RULES & CONSOLE},
    "automation:rule_move": {POST: RULES & CONSOLE},
    "automation:macro_new": {POST: MACROS & CONSOLE},
    "automation:macro_edit": {POST: SHARED_MACROS & CONSOLE},
    "api:webhook_list": {POST: ADD_WEBHOOK},
    "api:webhook_detail": {PATCH: WEBHOOKS},
    "api:webhook_disable": {POST: WEBHOOKS},
    "api:webhook_enable": {POST: WEBHOOKS},
    "api:webhook_rotate_secret": {POST: WEBHOOKS},
    "api:webhook_delivery_replay": {POST: REPLAY_WEBHOOK},
    # Professional services.
    "billing:service_quote_new": {POST: QUOTE_SERVICES & CONSOLE},
    "billing:service_quote_send": {POST: CHANGE_SERVICE_QUOTE & CONSOLE},
    "billing:service_quote_withdraw": {POST: CHANGE_SERVICE_QUOTE & CONSOLE},
    "billing:engagement_split": {POST: CHANGE_ENGAGEMENT & CONSOLE},
    "billing:milestone_deliver": {POST: CHANGE_ENGAGEMENT & CONSOLE},
    "billing:engagement_time": {POST: LOG_SERVICE_TIME & CONSOLE},
    "billing:portal_service_quote_accept": {POST: DECIDE_SERVICE_QUOTE & PORTAL},
    "billing:portal_service_quote_decline": {POST: DECIDE_SERVICE_QUOTE & PORTAL},
    "api:service_quote_list": {POST: QUOTE_SERVICES},
    "api:service_quote_send": {POST: CHANGE_SERVICE_QUOTE},
    "api:service_quote_withdraw": {POST: CHANGE_SERVICE_QUOTE},
    "api:service_quote_accept": {POST: DECIDE_SERVICE_QUOTE},
    "api:service_quote_decline": {POST: DECIDE_SERVICE_QUOTE},
    "api:engagement_milestones": {POST: CHANGE_ENGAGEMENT},
    "api:engagement_milestone_deliver": {POST: CHANGE_ENGAGEMENT},
    "api:engagement_time_entries": {POST: LOG_SERVICE_TIME},
}

# One operation, several doors: each door lets through the same roles of its audience, and
# checks the same permissions.
SAME_OPERATION: dict[str, list[tuple[str, str]]] = {
    "OPEN_CASE": [
        ("portal:case_new", POST),
        ("console:case_new", POST),
        ("api:case_list", POST),
        # kb:suggestion_case_new is the portal's form again (portal-only: WRITES says so).
    ],
    "PREVIEW_DECISION": [("console:case_preview", POST), ("api:decision_preview", POST)],
    "EDIT_CASE": [
        ("console:case_assign", POST),
        ("console:case_fields", POST),
        ("api:case_detail", PATCH),
    ],
    "REPLY": [
        ("console:case_reply", POST),
        ("portal:case_reply", POST),
        ("api:case_messages", POST),
        ("api:case_attachments", POST),
    ],
    "TRANSITION": [
        ("console:case_transition", POST),
        ("portal:case_transition", POST),
        ("api:case_transition", POST),
    ],
    "LINK_DEFECT": [
        ("console:case_defect", POST),
        ("console:defect_link", POST),
        ("api:case_defect_link", POST),
    ],
    "ADD_DEFECT": [("console:defect_new", POST), ("api:defect_list", POST)],
    "CHANGE_DEFECT": [("console:defect_fix", POST), ("api:defect_fix_release", POST)],
    "OVERRIDE": [
        ("console:case_override", POST),
        ("api:case_override", POST),
        ("api:decision_override", POST),
    ],
    "LOG_TIME": [
        ("console:case_time", POST),
        ("console:timer_start", POST),
        ("console:timer_stop", POST),
        ("api:case_time_entries", POST),
    ],
    "CSAT": [("portal:case_csat", POST), ("api:case_csat", POST)],
    "TOP_UP": [("contracts:contract_top_up", POST), ("api:contract_top_up", POST)],
    "RENEW": [("contracts:contract_renew", POST), ("api:contract_renew", POST)],
    "CANCEL": [("contracts:contract_cancel", POST), ("api:contract_cancel", POST)],
    "ADD_CONTRACT": [("contracts:contract_new", POST), ("api:contract_list", POST)],
    "ADD_PLAN": [
        ("contracts:plan_new", POST),
        ("contracts:plan_edit", POST),
        ("api:plan_list", POST),
        ("api:plan_new_version", POST),
    ],
    "START_RUN": [
        ("billing:run_start", POST),
        ("billing:run_continue", POST),
        ("api:billing_run_list", POST),
        ("api:billing_run_start", POST),
    ],
    "CHANGE_INVOICE": [
        ("billing:invoice_issue", POST),
        ("billing:invoice_void", POST),
        ("billing:invoice_paid", POST),
        ("api:invoice_issue", POST),
        ("api:invoice_void", POST),
        ("api:invoice_paid", POST),
    ],
    "CREDIT": [("billing:invoice_credit", POST), ("api:credit_note_list", POST)],
    "GENERATE_QUOTES": [("billing:quote_generate", POST), ("api:renewal_quote_generate", POST)],
    "ACCEPT_QUOTE": [("billing:quote_accept", POST), ("api:renewal_quote_accept", POST)],
    "CREATE_LEAD": [("success:lead_new", POST), ("api:lead_list", POST)],
    "CONVERT_LEAD": [("success:lead_convert", POST), ("api:lead_convert", POST)],
    "ADD_OPPORTUNITY": [("success:opportunity_new", POST), ("api:opportunity_list", POST)],
    "CHANGE_OPPORTUNITY": [
        ("success:opportunity_move", POST),
        ("success:opportunity_lose", POST),
        ("success:opportunity_edit", POST),
        ("api:opportunity_move", POST),
        ("api:opportunity_lose", POST),
        ("api:opportunity_detail", PATCH),
    ],
    "WIN": [("success:opportunity_win", POST), ("api:opportunity_win", POST)],
    "LOG_INTERACTION": [
        ("success:lead_interaction", POST),
        ("success:opportunity_interaction", POST),
        ("success:organization_interaction", POST),
        ("api:interaction_list", POST),
    ],
    "CHANGE_ONBOARDING": [("success:step_done", POST), ("api:onboarding_step_done", POST)],
    "ADD_LICENSE": [("success:license_new", POST), ("api:license_list", POST)],
    "REPORT_USAGE": [
        ("success:license_report", POST),
        ("success:license_upload", POST),
        ("api:license_usage", POST),
    ],
    "CHANGE_PLAN": [
        ("success:plan_edit", POST),
        ("api:success_plan_list", POST),
        ("api:success_plan_detail", PATCH),
    ],
    "ADD_GOAL": [("success:goal_new", POST), ("api:success_goal_list", POST)],
    "CHANGE_GOAL": [("success:goal_edit", POST), ("api:success_goal_detail", PATCH)],
    "ADD_MILESTONE": [("success:milestone_new", POST), ("api:milestone_list", POST)],
    "CHANGE_MILESTONE": [
        ("success:milestone_edit", POST),
        ("success:milestone_done", POST),
        ("api:milestone_detail", PATCH),
        ("api:milestone_done", POST),
    ],
    "SEND_SURVEY": [("success:survey_send", POST), ("api:perception_survey_list", POST)],
    "ADD_COURSE": [("success:course_new", POST), ("api:course_list", POST)],
    "CHANGE_COURSE": [("success:course_edit", POST), ("api:course_detail", PATCH)],
    "SCHEDULE_SESSION": [("success:session_new", POST), ("api:training_session_list", POST)],
    "ENROLL": [("success:enrollment_new", POST), ("api:training_session_enroll", POST)],
    "CHANGE_ENROLLMENT": [
        ("success:enrollment_complete", POST),
        ("success:enrollment_no_show", POST),
        ("success:enrollment_cancel", POST),
        ("api:enrollment_complete", POST),
        ("api:enrollment_no_show", POST),
        ("api:enrollment_cancel", POST),
    ],
    "ADD_ARTICLE": [("kb:article_new", POST), ("api:article_list", POST)],
    "PUBLISH_ARTICLE": [
        ("kb:article_publish", POST),
        ("kb:article_archive", POST),
        ("kb:article_edit", POST),
        ("api:article_publish", POST),
        ("api:article_archive", POST),
        ("api:article_detail", PATCH),
    ],
    "KB_CATEGORIES": [("kb:category_list", POST), ("api:category_list", POST)],
    "ADD_WEBHOOK": [("automation:endpoint_new", POST), ("api:webhook_list", POST)],
    "WEBHOOKS": [
        ("automation:endpoint_edit", POST),
        ("automation:endpoint_disable", POST),
        ("automation:endpoint_enable", POST),
        ("automation:endpoint_rotate", POST),
        ("api:webhook_detail", PATCH),
        ("api:webhook_disable", POST),
        ("api:webhook_enable", POST),
        ("api:webhook_rotate_secret", POST),
    ],
    "REPLAY_WEBHOOK": [
        ("automation:delivery_replay", POST),
        ("api:webhook_delivery_replay", POST),
    ],
    "QUOTE_SERVICES": [("billing:service_quote_new", POST), ("api:service_quote_list", POST)],
    "CHANGE_SERVICE_QUOTE": [
        ("billing:service_quote_send", POST),
        ("billing:service_quote_withdraw", POST),
        ("api:service_quote_send", POST),
        ("api:service_quote_withdraw", POST),
    ],
    "CHANGE_ENGAGEMENT": [
        ("billing:engagement_split", POST),
        ("billing:milestone_deliver", POST),
        ("api:engagement_milestones", POST),
        ("api:engagement_milestone_deliver", POST),
    ],
    "LOG_SERVICE_TIME": [("billing:engagement_time", POST), ("api:engagement_time_entries", POST)],
    # Deciding a quote has customer doors only (the portal and the API), no staff door.
}

# Requests that need no input, so an empty body does what they say (for the roles let
# through; a refused request never writes).
EMPTY_BODY_WRITES: set[tuple[str, str]] = {
    ("success:survey_send", POST),  # no contact chosen: to every customer admin
    ("accounts:logout", POST),  # ends the session
    ("accounts:token_revoke", POST),  # revokes the world's token
    ("mail:preferences", POST),  # no box ticked: every optional e-mail off
    ("console:timer_start", POST),
    ("contracts:contract_renew", POST),
    ("api:contract_renew", POST),
    ("api:contract_cancel", POST),  # the API takes no reason (the console asks for one)
    ("api:contact_deactivate", POST),
    ("api:case_time_entry_detail", DELETE),
    ("api:plan_new_version", POST),  # a version with the same terms
    ("api:billing_run_start", POST),
    ("api:invoice_paid", POST),  # paid now, without a reference
    ("api:renewal_quote_accept", POST),
    ("billing:run_continue", POST),  # queues the pending run again
    ("billing:invoice_paid", POST),  # paid now, without a reference
    ("billing:quote_accept", POST),
    ("success:lead_convert", POST),  # the lead holds everything the conversion needs
    ("success:enrollment_complete", POST),  # completed on the session's day (or today)
    ("success:enrollment_no_show", POST),
    ("success:enrollment_cancel", POST),
    ("api:enrollment_complete", POST),
    ("api:enrollment_no_show", POST),
    ("api:enrollment_cancel", POST),
    ("api:lead_convert", POST),
    ("kb:article_archive", POST),  # archives the world's article
    ("api:article_archive", POST),
    ("kb:help_article_view", POST),  # counts a view of the world's public article
    ("automation:endpoint_disable", POST),  # disables the world's endpoint
    ("api:webhook_disable", POST),
    ("automation:endpoint_rotate", POST),  # a new secret
    ("api:webhook_rotate_secret", POST),
    ("automation:delivery_replay", POST),  # queues the world's delivery again
    ("api:webhook_delivery_replay", POST),
    ("automation:rule_deactivate", POST),  # deactivates the world's rule
    ("billing:service_quote_withdraw", POST),  # withdraws the world's sent quote
    ("api:service_quote_withdraw", POST),
    ("billing:portal_service_quote_accept", POST),  # accepts it (the contact opened the case)
    ("api:service_quote_accept", POST),
    ("billing:portal_service_quote_decline", POST),  # a reason is optional
    ("api:service_quote_decline", POST),
    ("billing:milestone_deliver", POST),  # delivers the engagement's milestone
    ("api:engagement_milestone_deliver", POST),
}


# --- Routes and their methods --------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    name: str
    pattern: str
    callback: Callable[..., Any]

    @property
    def view_class(self) -> type[View] | None:
        return getattr(self.callback, "view_class", None)

    @property
    def is_api(self) -> bool:
        return self.view_class is not None and issubclass(self.view_class, APIView)

    @property
    def takes_json(self) -> bool:
        parsers = getattr(self.view_class, "parser_classes", [])
        return any(issubclass(parser, JSONParser) for parser in parsers)

    @property
    def methods(self) -> frozenset[str]:
        """The methods the view takes, from the view itself."""
        if self.view_class is not None:
            taken = {
                m.upper() for m in self.view_class.http_method_names if hasattr(self.view_class, m)
            }
            if GET in taken:
                taken.add(HEAD)  # View.setup() answers HEAD with the GET handler
            return frozenset(taken).intersection(METHODS)
        lists = required_methods(self.callback, set())
        if not lists:
            return frozenset(METHODS)  # the view does not say: every method is tried
        return frozenset.intersection(*lists).intersection(METHODS)


def required_methods(function: Any, seen: set[int]) -> list[frozenset[str]]:
    """The method lists of ``require_http_methods`` (and ``require_POST``, ``require_safe``)
    anywhere in a function view's decorators: the closures and ``__wrapped__`` chain."""
    if id(function) in seen:
        return []
    seen.add(id(function))
    found = []
    for cell in getattr(function, "__closure__", None) or ():
        value = cell.cell_contents
        if (
            isinstance(value, list | tuple)
            and value
            and all(isinstance(m, str) and m.upper() in (*METHODS, "OPTIONS") for m in value)
        ):
            found.append(frozenset(m.upper() for m in value))
        elif callable(value):
            found += required_methods(value, seen)
    wrapped = getattr(function, "__wrapped__", None)
    if wrapped is not None:
        found += required_methods(wrapped, seen)
    return found


def walk(patterns: list, namespace: str = "", prefix: str = "") -> Iterator[Route]:
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
            name = f"{namespace}:{entry.name}" if namespace else entry.name
            yield Route(name, prefix + str(entry.pattern), entry.callback)


def all_routes() -> list[Route]:
    routes = {(r.name, r.pattern): r for r in walk(get_resolver().url_patterns)}
    return [r for _, r in sorted(routes.items()) if not r.pattern.startswith("static/")]


def takes_get(name: str) -> bool:
    """A route takes GET unless ``EXPECTED`` says 405 to every signed-in role."""
    return any(status != 405 for role, status in EXPECTED.get(name, {}).items() if role != ANON)


def declared_routes() -> list[Route]:
    """The routes with a declared expectation (the others fail the tests just below)."""
    return [route for route in all_routes() if route.name in EXPECTED]


def declared_methods(name: str) -> set[str]:
    return ({GET, HEAD} if takes_get(name) else set()) | set(WRITES.get(name, {}))


def test_every_route_has_an_access_expectation():
    routes = all_routes()
    names = {route.name for route in routes}
    missing = sorted(names - set(EXPECTED))
    stale = sorted((set(EXPECTED) | set(WRITES)) - names)
    assert not missing, f"Decide who may see these routes and add them to EXPECTED: {missing}"
    assert not stale, f"These routes no longer exist: {stale}"


def test_every_method_of_every_route_has_an_access_expectation():
    undeclared, stale = [], []
    for route in all_routes():
        declared = declared_methods(route.name)
        undeclared += [f"{m} {route.name}" for m in sorted(route.methods - declared)]
        stale += [f"{m} {route.name}" for m in sorted(declared - route.methods)]
    assert not undeclared, (
        "Decide who may use these methods (WRITES, or EXPECTED for GET): " + ", ".join(undeclared)
    )
    assert not stale, "These routes no longer take these methods: " + ", ".join(stale)
    declared_writes = {(name, method) for name, methods in WRITES.items() for method in methods}
    assert declared_writes >= EMPTY_BODY_WRITES, EMPTY_BODY_WRITES - declared_writes


def test_the_doors_of_one_operation_let_through_the_same_roles():
    """Each door of an operation, on the audience it shares with the operation's first
    door, expects the same roles: no door asks for another permission."""
    audience = {"console": CONSOLE, "contracts": CONSOLE, "portal": PORTAL}

    def served_by(name: str) -> Roles:
        return audience.get(name.split(":")[0], EVERYONE)

    disagreements = []
    for operation, ((name, method), *others) in SAME_OPERATION.items():
        for other, other_method in others:
            shared = served_by(name) & served_by(other)
            one = WRITES[name][method] & shared
            two = WRITES[other][other_method] & shared
            if one != two:
                disagreements.append(
                    f"{operation}: {method} {name} lets through {sorted(one)}, "
                    f"{other_method} {other} {sorted(two)}"
                )
    assert not disagreements, "\n".join(disagreements)


def test_each_operation_lets_through_the_staff_holding_its_permissions(cast):
    users = users_by_role(cast)
    wrong = []
    for operation, (roles, perms) in PERMISSIONS.items():
        holders = {role for role in STAFF if users[role].has_perms(perms)}  # type: ignore[attr-defined]
        if holders != roles & CONSOLE:
            wrong.append(f"{operation} ({', '.join(perms)}): held by {sorted(holders)}")
    assert not wrong, "\n".join(wrong)


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
    intake = case_actions.plan_intake(
        contact=cast.contact,
        product=product,
        subject="Help",
        description="Please",
        channel="web",
        actor=cast.contact.user,
    )
    case = case_actions.do_open_case(plan=intake, actor=cast.contact.user)
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
    import_run = ImportRun.objects.create(source="csv", kind="contacts", dry_run=True)
    (quote,) = billing_actions.do_generate_renewal_quotes(
        today=dt.date(2025, 12, 1), actor=cast.billing
    )
    calendar = case_actions.do_save_calendar(None, name="Office", actor=cast.admin)
    category = kb_actions.do_save_category(None, values={"name": "How-to"}, actor=cast.admin)
    article = kb_actions.do_publish_article(
        kb_actions.do_create_article(
            values={"title": "Reset a password", "body": "Steps.", "visibility": "public"},
            author=cast.admin,
        ),
        actor=cast.admin,
    )
    mailbox = mail_actions.do_save_mailbox(
        None, values={"name": "support", "address": "support@vendor.test"}, actor=cast.admin
    )
    inbound, _ = mail_actions.do_receive_mail(mailbox, b"From: x@nowhere.test\r\n\r\nhi\r\n")
    mail_actions.process_inbound(inbound.pk)  # rejected (unknown sender), answered
    target = case_actions.do_save_sla_target(
        None,
        severity=2,
        calendar=calendar,
        first_response_minutes=60,
        resolution_minutes=480,
        actor=cast.admin,
    )
    return {
        "pk": {
            "console:organization_detail": cast.acme.pk,
            "metrics:organization_health": cast.acme.pk,
            "api:metrics_organization_health": cast.acme.pk,
            "accounts:staff_edit": cast.agent.pk,
            "accounts:staff_active": cast.agent.pk,
            "accounts:team_edit": account_actions.do_save_team(
                None, name="Night shift", members=[cast.agent], lead=cast.manager, actor=None
            ).pk,
            "accounts:token_revoke": account_actions.do_create_api_token(
                user=cast.agent,
                name="Agent's script",
                scopes=["cases:read"],
                expires_in_days=30,
                actor=cast.agent,
            ).token.pk,
            **dict.fromkeys(
                [f"kb:article_{view}" for view in ("detail", "edit", "publish", "archive", "diff")],
                article.pk,
            ),
            "kb:category_edit": category.pk,
            "kb:case_article_unlink": article.pk,
            **dict.fromkeys(
                [f"mail:inbound_{view}" for view in ("detail", "open_case", "attach", "reject")],
                inbound.pk,
            ),
            "mail:outbound_retry": inbound.answers.get().pk,
            "mail:mailbox_edit": mailbox.pk,
            "api:organization_detail": cast.acme.pk,
            "api:contact_detail": cast.contact.pk,
            "api:contact_deactivate": cast.contact.pk,
            "api:contact_reactivate": cast.contact.pk,
            "api:product_detail": product.pk,
            "api:release_detail": release.pk,
            "api:environment_detail": environment.pk,
            "api:offering_detail": offering.pk,
            "catalog:product_detail": product.pk,
            "catalog:product_edit": product.pk,
            "catalog:release_edit": release.pk,
            "catalog:offering_edit": offering.pk,
            "catalog:offering_active": offering.pk,
            "api:case_time_entry_detail": entry.pk,
            "api:defect_detail": defect.pk,
            "api:case_attachment_download": attachment.pk,
            "api:defect_fix_release": defect.pk,
            "console:defect_detail": defect.pk,
            "console:defect_fix": defect.pk,
            "console:defect_link": defect.pk,
            "console:calendar_edit": calendar.pk,
            "console:sla_target_edit": target.pk,
            "api:decision_detail": case.decision_id,
            "api:decision_override": case.decision_id,
            "api:plan_detail": plan.pk,
            "api:plan_new_version": plan.pk,
            "contracts:plan_edit": plan.pk,
            "api:billing_run_detail": billing_run.pk,
            "api:billing_run_start": billing_run.pk,
            "api:credit_note_detail": credit_note.pk,
            "api:renewal_quote_accept": quote.pk,
            "billing:run_detail": billing_run.pk,
            "billing:run_continue": billing_run.pk,
            "billing:quote_accept": quote.pk,
            **dict.fromkeys(
                [
                    f"billing:invoice_{view}"
                    for view in ("detail", "issue", "void", "paid", "credit")
                ],
                invoice.pk,
            ),
            "operations:delivery_retry": 1,  # likewise: no such delivery
            "imports:run_detail": import_run.pk,
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
                [
                    f"contracts:contract_{view}"
                    for view in ("detail", "top_up", "renew", "cancel", "rename", "named_contacts")
                ],
                contract.pk,
            ),
            **services_url_objects(cast, case=case, offering=offering),
            **success_url_objects(cast),  # built last: its won deal sells a contract
            **automation_url_objects(cast),
        },
        "public_id": case.public_id,
        "token": case_actions.csat_token(case),
        "survey_token": success_survey_token(cast),
        "unsubscribe_token": unsubscribe_token("carl@acme.test", "low_balance"),
        "job_id": "no-such-job",  # the permission is checked before the job is looked up
        "product_pk": product.pk,
        "slug": article.slug,
        "article_id": article.public_id,
    }


def url_for(route: Route, world: dict) -> str:
    kwargs = {}
    for param in re.findall(r"<(?:\w+:)?(\w+)>", route.pattern):
        kwargs[param] = world["pk"][route.name] if param == "pk" else world[param]
    return reverse(route.name, kwargs=kwargs)


class Snapshot:
    """Row count and highest primary key of every model table, in one query."""

    def __init__(self) -> None:
        tables: dict[str, str] = {}
        for model in apps.get_models(include_auto_created=True):
            meta = model._meta
            if meta.managed and not meta.proxy:
                tables.setdefault(meta.db_table, meta.pk.column)
        self.tables = sorted(tables)
        quote = connection.ops.quote_name
        # Table names come from the models, never from input.
        terms = [
            f"(SELECT COUNT(*) FROM {quote(t)}), (SELECT MAX({quote(tables[t])}) FROM {quote(t)})"  # noqa: S608
            for t in self.tables
        ]
        self.sql = "SELECT " + ", ".join(terms)

    def take(self) -> dict[str, tuple[int, Any]]:
        with connection.cursor() as cursor:
            cursor.execute(self.sql)
            row = cursor.fetchone()
        return {t: (row[2 * i], row[2 * i + 1]) for i, t in enumerate(self.tables)}

    @staticmethod
    def changed(before: dict, after: dict) -> list[str]:
        return [t for t in before if before[t] != after[t]]


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


@dataclass
class Answer:
    status: int
    location: str
    changed: list[str]
    detail: str


def undone(client: Client, snapshot: Snapshot, request: Callable[[], HttpResponseBase]) -> Answer:
    """Make one request and undo whatever it did, so every request meets the same data
    (and the same session); report what it changed."""
    cookies = deepcopy(client.cookies)
    with transaction.atomic():
        before = snapshot.take()
        response = request()
        status = response.status_code
        changed = [] if status >= 500 else Snapshot.changed(before, snapshot.take())
        transaction.set_rollback(True)
    client.cookies = cookies
    detail = ""
    if status >= 500:
        exc_info = getattr(response, "exc_info", None)
        detail = (
            "".join(traceback.format_exception(*exc_info)[-3:]).strip()
            if exc_info
            else getattr(response, "content", b"")[:300].decode(errors="replace")
        )
    elif response.get("Content-Type", "").startswith("application/json"):
        detail = getattr(response, "content", b"")[:200].decode(errors="replace")
    location = response.get("Location", "") if status in (301, 302, 303) else ""
    return Answer(status, location, changed, detail)


def send(client: Client, route: Route, method: str, url: str, snapshot: Snapshot) -> Answer:
    """``method`` on ``url`` with an empty body: JSON ``{}`` to an API view that reads
    JSON, empty form data otherwise."""
    if method in (GET, HEAD):
        return undone(client, snapshot, lambda: client.generic(method, url))
    if route.is_api and route.takes_json:
        return undone(
            client,
            snapshot,
            lambda: client.generic(method, url, b"{}", content_type="application/json"),
        )
    if method == POST:
        return undone(client, snapshot, lambda: client.post(url, {}))
    return undone(
        client,
        snapshot,
        lambda: client.generic(method, url, b"", content_type="application/x-www-form-urlencoded"),
    )


def sign_in_page(answer: Answer) -> bool:
    """A redirect to the sign-in page that comes back here afterwards (``?next=``)."""
    return (
        answer.status == 302
        and answer.location.startswith(reverse("accounts:login") + "?")
        and "next=" in answer.location
    )


def refused(answer: Answer) -> bool:
    return answer.status in (401, 403, 404) or sign_in_page(answer)


def client_for(cast, role: str) -> Client:
    client = cast.client_for(users_by_role(cast)[role])
    client.raise_request_exception = False  # a 5xx is a finding, reported with its traceback
    return client


@pytest.mark.parametrize("role", ROLES)
def test_each_route_answers_each_role_as_expected_and_changes_nothing(cast, world, role):
    """GET and HEAD: the exact status per role, and nothing written."""
    client = client_for(cast, role)
    snapshot = Snapshot()
    failures = []
    for route in declared_routes():
        url = url_for(route, world)
        expected = EXPECTED[route.name][role]
        for method in (GET, HEAD) if HEAD in route.methods else (GET,):
            answer = send(client, route, method, url, snapshot)
            ok = sign_in_page(answer) if expected == LOGIN else answer.status == expected
            if not ok:
                failures.append(
                    f"{role} {method} {url} ({route.name}): {answer.status}, expected {expected}"
                    + (f"\n    {answer.detail}" if answer.detail else "")
                )
            if answer.changed:
                failures.append(f"{role} {method} {url} changed {answer.changed}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("role", ROLES)
def test_each_write_lets_through_only_the_roles_with_its_permission(cast, world, role):
    """Every other method, with an empty body: refused or let through as ``WRITES`` says,
    never a 5xx, and nothing written unless ``EMPTY_BODY_WRITES`` allows it."""
    client = client_for(cast, role)
    snapshot = Snapshot()
    failures = []
    for route in declared_routes():
        methods = sorted(route.methods.intersection(WRITES.get(route.name, {})))
        url = url_for(route, world) if methods else ""
        for method in methods:
            where = f"{role} {method} {url} ({route.name})"
            allowed = role in WRITES[route.name][method]
            answer = send(client, route, method, url, snapshot)
            if answer.status >= 500:
                failures.append(f"{where}: {answer.status}\n    {answer.detail}")
                continue
            if allowed and refused(answer):
                failures.append(f"{where}: {answer.status}, expected to be let through")
            elif not allowed and not refused(answer):
                failures.append(
                    f"{where}: {answer.status}, expected a refusal (401/403/404 or sign-in)"
                    + (f"\n    {answer.detail}" if answer.detail else "")
                )
            may_write = allowed and (route.name, method) in EMPTY_BODY_WRITES
            if answer.changed and not may_write:
                failures.append(f"{where}: {answer.status} and changed {answer.changed}")
    assert not failures, "\n".join(failures)


def send_to_admin(client: Client, snapshot: Snapshot, method: str, url: str) -> Answer:
    if method == GET:
        return undone(client, snapshot, lambda: client.get(url))
    return undone(client, snapshot, lambda: client.post(url, {}))


def admin_models() -> list[type[Model]]:
    return sorted(admin.site._registry, key=lambda m: m._meta.label)


@pytest.mark.parametrize("role", ROLES)
def test_the_admin_shows_each_model_only_to_roles_with_its_permissions(cast, role):
    """The changelist and the add form (GET, and POST with an empty form) of every model:
    the sign-in page for non-staff, 403 without the permission, and an empty add form
    changes nothing."""
    user_or_contact = users_by_role(cast)[role]
    client = cast.client_for(user_or_contact)
    client.raise_request_exception = False
    user: Any = getattr(user_or_contact, "user", user_or_contact)
    snapshot = Snapshot()
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
        for view, method, perms in (
            ("changelist", GET, ("view", "change")),
            ("add", GET, ("add",)),
            ("add", POST, ("add",)),
        ):
            url = reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}")
            answer = send_to_admin(client, snapshot, method, url)
            if user is None or not user.is_staff:
                ok = answer.status == 302 and "/admin/login/" in answer.location
            elif (
                any(user.has_perm(f"{meta.app_label}.{p}_{meta.model_name}") for p in perms)
                and allowed[view]
            ):
                ok = answer.status == 200  # the form again, with its errors
            else:
                ok = answer.status == 403
            if not ok:
                failures.append(
                    f"{role} {method} {url}: {answer.status}"
                    + (f"\n    {answer.detail}" if answer.detail else "")
                )
            if answer.changed:
                failures.append(f"{role} {method} {url}: changed {answer.changed}")
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


# --- The permissions each door checks -------------------------------------------------------

# The permissions the operations above need: the ones a door might check instead.
PROBED = sorted({perm for _, perms in PERMISSIONS.values() for perm in perms})


def staff_doors(operation: str) -> list[tuple[str, str]]:
    return [door for door in SAME_OPERATION[operation] if not door[0].startswith("portal:")]


def staff_client_without(cast, missing: str | None) -> Client:
    """A staff member holding every permission the roles grant (as their own permissions,
    in no role) except ``missing``."""
    granted = {
        f"{app}.{codename}": pk
        for pk, app, codename in Permission.objects.filter(group__name=Role.ADMIN).values_list(
            "pk", "content_type__app_label", "codename"
        )
    }
    user = account_actions.do_create_staff_user(
        email=f"without-{(missing or 'nothing').replace('_', '-')}@vendor.test",
        full_name=f"Without {missing or 'nothing'}",
        roles=[],
        actor=None,
    )
    user.user_permissions.set([pk for perm, pk in granted.items() if perm != missing])
    client = cast.client_for(user)
    client.raise_request_exception = False
    return client


def test_the_doors_of_one_operation_check_the_same_permissions(cast, world):
    """Whatever the roles hold today: a staff member holding every permission but one is
    refused by a door exactly when the door needs that permission. The staff doors of one
    operation (console and API) need the same permissions, among them the ones
    ``PERMISSIONS`` names for it, and a missing one is a 403/404 before any look at the
    input, never a form or validation error."""
    snapshot = Snapshot()
    routes = {route.name: route for route in all_routes()}
    clients = {missing: staff_client_without(cast, missing) for missing in [None, *PROBED]}
    failures = []
    for operation in SAME_OPERATION:
        doors = staff_doors(operation)
        if len(doors) < 2:
            continue
        needs: dict[tuple[str, str], set[str]] = {}
        for name, method in doors:
            route = routes[name]
            url = url_for(route, world)
            answer = send(clients[None], route, method, url, snapshot)
            if refused(answer) or answer.status >= 500:
                failures.append(
                    f"{operation}: {method} {name} refuses a holder of every permission: {answer}"
                )
            needs[name, method] = set()
            for perm in PROBED:
                answer = send(clients[perm], route, method, url, snapshot)
                if answer.status >= 500:
                    failures.append(
                        f"{operation}: {method} {name} without {perm}: {answer.status}\n"
                        f"    {answer.detail}"
                    )
                elif refused(answer):
                    needs[name, method].add(perm)
        _, declared = PERMISSIONS[operation]
        for (name, method), door_needs in needs.items():
            if not set(declared) <= door_needs:
                failures.append(
                    f"{operation}: {method} {name} lets through a staff member without "
                    f"{', '.join(sorted(set(declared) - door_needs))}"
                )
        ((first, first_method), first_needs), *others = needs.items()
        for (name, method), door_needs in others:
            if door_needs != first_needs:
                failures.append(
                    f"{operation}: {first_method} {first} needs {sorted(first_needs)}, "
                    f"{method} {name} needs {sorted(door_needs)}"
                )
    assert not failures, "\n".join(failures)
