"""REST API of sales and customer success: leads (and converting them), the pipeline's
stages, opportunities (move, win, lose), interactions, onboarding plans, and licenses
with their usage reports (which customer contacts read for their own organization).

Vendor staff only: a customer contact is refused (403) like a staff member without the
view permission. Writes go through ``success.checks`` (the permission, before the body
is read; then the action) and creates honour ``Idempotency-Key``. Refusals are domain
errors rendered by ``lib.api.exception_handler``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from retainer.accounts.access import request_user
from retainer.lib.api import require_perm, validated
from retainer.lib.errors import InvalidInput
from retainer.lib.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from retainer.success import checks
from retainer.success.access import (
    access_lead,
    access_license,
    access_onboarding_plan,
    access_onboarding_step,
    access_opportunity,
    access_stage,
    interactions_visible_to,
    leads_visible_to,
    licenses_visible_to,
    onboarding_plans_visible_to,
    opportunities_visible_to,
    stages_visible_to,
)
from retainer.success.filters import (
    InteractionFilter,
    LeadFilter,
    OnboardingPlanFilter,
    OpportunityFilter,
)
from retainer.success.models import Interaction, Lead, License, OnboardingPlan, Opportunity, Stage
from retainer.success.selectors import LicenseRow, license_adoption, onboarding_plans_for
from retainer.success.serializers import (
    ConvertIn,
    ConvertOut,
    InteractionIn,
    InteractionOut,
    LeadIn,
    LeadOut,
    LicenseIn,
    LicenseOut,
    LoseIn,
    MoveIn,
    OnboardingPlanOut,
    OnboardingStepOut,
    OpportunityChangeIn,
    OpportunityIn,
    OpportunityOut,
    StageIn,
    StageOut,
    StepDoneIn,
    UsageIn,
    WinIn,
)


def _created(data: Any) -> Response:
    return Response(data, status=status.HTTP_201_CREATED)


# --- Leads ---------------------------------------------------------------------------------


class LeadList(generics.ListAPIView):
    queryset = Lead.objects.none()  # the real one depends on the user
    serializer_class = LeadOut
    filterset_class = LeadFilter

    def get_queryset(self) -> QuerySet[Lead]:
        require_perm(self.request.user, "success.view_lead")
        return leads_visible_to(request_user(self.request))

    @extend_schema(request=LeadIn, responses={201: LeadOut}, parameters=[IDEMPOTENCY_PARAMETER])
    @idempotent
    def post(self, request: Request) -> Response:
        actor = request_user(request)
        checks.authorize_create_lead(actor)
        lead = checks.check_create_lead(actor, **validated(LeadIn, request.data))
        return _created(LeadOut(lead).data)


class LeadDetail(APIView):
    @extend_schema(responses=LeadOut)
    def get(self, request: Request, pk: int) -> Response:
        require_perm(request.user, "success.view_lead")
        return Response(LeadOut(access_lead(request_user(request), pk)).data)

    @extend_schema(request=LeadIn, responses=LeadOut)
    def patch(self, request: Request, pk: int) -> Response:
        """Change a lead that is not converted (409 ``lead_converted`` once it is)."""
        actor = request_user(request)
        checks.authorize_change_lead(actor)
        lead = access_lead(actor, pk)
        values = validated(LeadIn, request.data, partial=True)
        return Response(LeadOut(checks.check_update_lead(actor, lead, **values)).data)


class LeadConvert(APIView):
    @extend_schema(
        request=ConvertIn,
        responses={201: ConvertOut},
        parameters=[IDEMPOTENCY_PARAMETER],
        description=(
            "Creates the organization and the contact from the lead (or links the existing "
            "organization: the owner of the e-mail's domain, or the only one of that name), "
            "and an opportunity in the first stage unless `open_opportunity` is false. "
            "A second conversion is a 409 `lead_already_converted`."
        ),
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        actor = request_user(request)
        checks.authorize_convert_lead(actor)
        lead = access_lead(actor, pk)
        values = validated(ConvertIn, request.data)
        organization, contact, opportunity = checks.check_convert_lead(actor, lead, **values)
        lead.refresh_from_db()
        body = {
            "lead": lead,
            "organization": organization.pk,
            "contact": contact.pk,
            "opportunity": opportunity.pk if opportunity else None,
        }
        return _created(ConvertOut(body).data)


# --- Stages --------------------------------------------------------------------------------


class StageList(generics.ListAPIView):
    queryset = Stage.objects.none()
    serializer_class = StageOut
    pagination_class = None

    def get_queryset(self) -> QuerySet[Stage]:
        require_perm(self.request.user, "success.view_stage")
        return stages_visible_to(request_user(self.request)).order_by("order")

    @extend_schema(request=StageIn, responses={201: StageOut}, parameters=[IDEMPOTENCY_PARAMETER])
    @idempotent
    def post(self, request: Request) -> Response:
        actor = request_user(request)
        checks.authorize_save_stage(actor, None)
        stage = checks.check_save_stage(actor, None, **validated(StageIn, request.data))
        return _created(StageOut(stage).data)


class StageDetail(APIView):
    @extend_schema(responses=StageOut)
    def get(self, request: Request, pk: int) -> Response:
        require_perm(request.user, "success.view_stage")
        return Response(StageOut(access_stage(request_user(request), pk)).data)

    @extend_schema(request=StageIn, responses=StageOut)
    def patch(self, request: Request, pk: int) -> Response:
        actor = request_user(request)
        stage = access_stage(actor, pk)
        checks.authorize_save_stage(actor, stage)
        current = StageOut(stage).data
        values = validated(StageIn, request.data, partial=True)
        merged = {key: current[key] for key in ("name", "order", "probability", "kind")}
        merged["is_active"] = current["is_active"]
        merged.update(values)
        return Response(StageOut(checks.check_save_stage(actor, stage, **merged)).data)


# --- Opportunities -------------------------------------------------------------------------


class OpportunityList(generics.ListAPIView):
    queryset = Opportunity.objects.none()
    serializer_class = OpportunityOut
    filterset_class = OpportunityFilter

    def get_queryset(self) -> QuerySet[Opportunity]:
        require_perm(self.request.user, "success.view_opportunity")
        return opportunities_visible_to(request_user(self.request)).prefetch_related(
            "products", "contracts"
        )

    @extend_schema(
        request=OpportunityIn, responses={201: OpportunityOut}, parameters=[IDEMPOTENCY_PARAMETER]
    )
    @idempotent
    def post(self, request: Request) -> Response:
        actor = request_user(request)
        checks.authorize_create_opportunity(actor)
        values = validated(OpportunityIn, request.data)
        opportunity = checks.check_create_opportunity(actor, **values)
        return _created(OpportunityOut(opportunity).data)


class OpportunityDetail(APIView):
    @extend_schema(responses=OpportunityOut)
    def get(self, request: Request, pk: int) -> Response:
        require_perm(request.user, "success.view_opportunity")
        return Response(OpportunityOut(access_opportunity(request_user(request), pk)).data)

    @extend_schema(request=OpportunityChangeIn, responses=OpportunityOut)
    def patch(self, request: Request, pk: int) -> Response:
        """Change an open opportunity (409 ``opportunity_closed`` once won or lost)."""
        actor = request_user(request)
        checks.authorize_change_opportunity(actor)
        opportunity = access_opportunity(actor, pk)
        values = validated(OpportunityChangeIn, request.data, partial=True)
        changed = checks.check_update_opportunity(actor, opportunity, **values)
        return Response(OpportunityOut(changed).data)


class OpportunityMove(APIView):
    @extend_schema(
        request=MoveIn,
        responses=OpportunityOut,
        description="Moves an open deal to another open stage; the won and lost stages are "
        "reached by winning or losing (400 `stage_not_in_pipeline`), a closed deal does not "
        "move (409 `opportunity_closed`).",
    )
    def post(self, request: Request, pk: int) -> Response:
        actor = request_user(request)
        checks.authorize_change_opportunity(actor)
        opportunity = access_opportunity(actor, pk)
        moved = checks.check_move_opportunity(actor, opportunity, **validated(MoveIn, request.data))
        return Response(OpportunityOut(moved).data)


class OpportunityWin(APIView):
    @extend_schema(
        request=WinIn,
        responses=OpportunityOut,
        parameters=[IDEMPOTENCY_PARAMETER],
        description=(
            "Wins the deal and hands it to service in one transaction: the contract sold on "
            "the proposed plan (priced by the plan), the success owner and team, and the "
            "onboarding plan from the template (the default one when not given). Refused "
            "with nothing written: no proposed plan (400 `no_proposed_plan`), a plan in "
            "another currency (400 `currency_mismatch`), a closed deal (409)."
        ),
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        actor = request_user(request)
        checks.authorize_win_opportunity(actor)
        opportunity = access_opportunity(actor, pk)
        won = checks.check_win_opportunity(actor, opportunity, **validated(WinIn, request.data))
        return Response(OpportunityOut(won).data)


class OpportunityLose(APIView):
    @extend_schema(request=LoseIn, responses=OpportunityOut)
    def post(self, request: Request, pk: int) -> Response:
        actor = request_user(request)
        checks.authorize_change_opportunity(actor)
        opportunity = access_opportunity(actor, pk)
        lost = checks.check_lose_opportunity(actor, opportunity, **validated(LoseIn, request.data))
        return Response(OpportunityOut(lost).data)


# --- Interactions and onboarding -------------------------------------------------------------


class InteractionList(generics.ListAPIView):
    queryset = Interaction.objects.none()
    serializer_class = InteractionOut
    filterset_class = InteractionFilter

    def get_queryset(self) -> QuerySet[Interaction]:
        require_perm(self.request.user, "success.view_interaction")
        return interactions_visible_to(request_user(self.request))

    @extend_schema(
        request=InteractionIn, responses={201: InteractionOut}, parameters=[IDEMPOTENCY_PARAMETER]
    )
    @idempotent
    def post(self, request: Request) -> Response:
        actor = request_user(request)
        checks.authorize_log_interaction(actor)
        values = validated(InteractionIn, request.data)
        interaction = checks.check_log_interaction(actor, **values)
        return _created(InteractionOut(interaction).data)


class OnboardingPlanList(generics.ListAPIView):
    queryset = OnboardingPlan.objects.none()
    serializer_class = OnboardingPlanOut
    filterset_class = OnboardingPlanFilter

    def get_queryset(self) -> QuerySet[OnboardingPlan]:
        require_perm(self.request.user, "success.view_onboardingplan")
        plans = onboarding_plans_visible_to(request_user(self.request))
        return onboarding_plans_for(plans=plans)


class OnboardingPlanDetail(APIView):
    @extend_schema(responses=OnboardingPlanOut)
    def get(self, request: Request, pk: int) -> Response:
        require_perm(request.user, "success.view_onboardingplan")
        plan = access_onboarding_plan(request_user(request), pk)
        return Response(OnboardingPlanOut(plan).data)


class OnboardingStepDone(APIView):
    @extend_schema(request=StepDoneIn, responses=OnboardingStepOut)
    def post(self, request: Request, pk: int) -> Response:
        actor = request_user(request)
        checks.authorize_change_onboarding(actor)
        step = access_onboarding_step(actor, pk)
        values = validated(StepDoneIn, request.data)
        return Response(OnboardingStepOut(checks.check_set_step_done(actor, step, **values)).data)


# --- Licenses and usage ------------------------------------------------------------------------


def _license_body(row: LicenseRow) -> dict[str, Any]:
    return {
        "license": row.license,
        "latest": row.latest,
        "adoption_pct": row.adoption.adoption_pct,
        "basic_pct": row.adoption.basic_pct,
        "advanced_pct": row.adoption.advanced_pct,
        "flagged": row.flagged,
    }


def _license_rows(licenses: QuerySet[License]) -> list[LicenseRow]:
    threshold = settings.RETAINER_ADOPTION_THRESHOLD
    return license_adoption(licenses=licenses, threshold=threshold).rows


def _one_license(license: License) -> dict[str, Any]:
    """A license's body; its flag is its organization's, so that organization's licenses
    are read (the same 3 queries)."""
    rows = _license_rows(License.objects.filter(organization_id=license.organization_id))
    return _license_body(next(row for row in rows if row.license.pk == license.pk))


class LicenseList(APIView):
    @extend_schema(
        responses=LicenseOut(many=True),
        parameters=[OpenApiParameter("organization", int, description="Only this organization.")],
        description=(
            "Staff with `success.view_license`: every license; a customer contact: their "
            "organization's. Each with its latest month and adoption, the flagged "
            "organizations' first. Not paginated (a handful per organization)."
        ),
    )
    def get(self, request: Request) -> Response:
        licenses = licenses_visible_to(request_user(request))
        organization = request.query_params.get("organization")
        if organization:
            if not organization.isdigit():
                raise InvalidInput("invalid_organization", "organization is an id.")
            licenses = licenses.filter(organization_id=int(organization))
        rows = _license_rows(licenses)
        return Response(LicenseOut([_license_body(row) for row in rows], many=True).data)

    @extend_schema(
        request=LicenseIn, responses={201: LicenseOut}, parameters=[IDEMPOTENCY_PARAMETER]
    )
    @idempotent
    def post(self, request: Request) -> Response:
        actor = request_user(request)
        checks.authorize_create_license(actor)
        license = checks.check_create_license(actor, **validated(LicenseIn, request.data))
        return _created(LicenseOut(_one_license(license)).data)


class LicenseDetail(APIView):
    @extend_schema(responses=LicenseOut)
    def get(self, request: Request, pk: int) -> Response:
        license = access_license(request_user(request), pk)
        return Response(LicenseOut(_one_license(license)).data)


class LicenseUsageReport(APIView):
    @extend_schema(
        request=UsageIn,
        responses={200: LicenseOut},
        description=(
            "Report the usage of the license for the month of `period`; a second report "
            "for the same month replaces the first. Usage above the seats is refused "
            "(400) unless the license allows it."
        ),
    )
    def post(self, request: Request, pk: int) -> Response:
        actor = request_user(request)
        checks.authorize_report_usage(actor)
        license = access_license(actor, pk)
        checks.check_report_usage(actor, license, **validated(UsageIn, request.data))
        return Response(LicenseOut(_one_license(license)).data)
