"""A small services world built through the real actions, for this app's tests and the
route × role matrix (``tests/test_url_access.py``): on an Acme case requested by the
cast's contact, a sent quote and an accepted fixed-price one with its engagement."""

from __future__ import annotations

from typing import Any

from retainer.billing import services
from retainer.billing.models import Engagement, ServiceQuote
from retainer.cases.models import Case
from retainer.catalog.models import ServiceOffering


def build_quotes(
    cast: Any, *, case: Case, offering: ServiceOffering
) -> tuple[ServiceQuote, Engagement]:
    """(the sent quote, the accepted quote's engagement)."""
    sent = services.check_create_service_quote(
        cast.billing, offering=offering, case=case.public_id, send=True
    )
    accepted = services.check_create_service_quote(
        cast.billing, offering=offering, organization=cast.acme, send=True
    )
    accepted = services.do_accept_service_quote(
        accepted, contact=cast.customer_admin, actor=cast.customer_admin.user
    )
    return sent, Engagement.objects.get(quote=accepted)


def url_objects(cast: Any, *, case: Case, offering: ServiceOffering) -> dict[str, int]:
    sent, engagement = build_quotes(cast, case=case, offering=offering)
    milestone = engagement.milestones.get()
    quote_views = [
        "billing:service_quote_detail",
        "billing:service_quote_send",
        "billing:service_quote_withdraw",
        "billing:portal_service_quote_detail",
        "billing:portal_service_quote_accept",
        "billing:portal_service_quote_decline",
        "api:service_quote_detail",
        "api:service_quote_send",
        "api:service_quote_withdraw",
        "api:service_quote_accept",
        "api:service_quote_decline",
    ]
    engagement_views = [
        "billing:engagement_detail",
        "billing:engagement_split",
        "billing:engagement_time",
        "api:engagement_detail",
        "api:engagement_milestones",
        "api:engagement_time_entries",
    ]
    return {
        **dict.fromkeys(quote_views, sent.pk),
        **dict.fromkeys(engagement_views, engagement.pk),
        "billing:milestone_deliver": milestone.pk,
        "api:engagement_milestone_deliver": milestone.pk,
    }
