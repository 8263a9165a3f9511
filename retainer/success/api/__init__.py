"""REST API of sales and customer success: leads (and converting them), the pipeline's
stages, opportunities (move, win, lose), interactions, onboarding plans, and licenses
with their usage reports (which customer contacts read for their own organization).
Training (courses, sessions, enrollments, certificates) is ``api/proficiency.py``.

Vendor staff only: a customer contact is refused (403) like a staff member without the
view permission. Writes go through ``success.checks`` (the permission, before the body
is read; then the action) and creates honour ``Idempotency-Key``. Refusals are domain
errors rendered by ``lib.api.exception_handler``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from retainer.accounts.access import access_organization, request_user
from retainer.accounts.models import Organization
from retainer.lib.api import require_perm, validated
from retainer.lib.errors import InvalidInput
from retainer.lib.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from retainer.success import actions, checks
from retainer.success.access import (
    access_goal,
    access_lead,
    access_license,
    access_milestone,
    access_onboarding_plan,
    access_onboarding_step,
    access_opportunity,
    access_stage,
    access_success_plan,
    interactions_visible_to,
    leads_visible_to,
    licenses_visible_to,
    onboarding_plans_visible_to,
    opportunities_visible_to,
    perception_surveys_visible_to,
    stages_visible_to,
    success_plans_visible_to,
)
from retainer.success.filters import (
    InteractionFilter,
    LeadFilter,
    OnboardingPlanFilter,
    OpportunityFilter,
)
from retainer.success.models import (
    Interaction,
    Lead,
    License,
    OnboardingPlan,
    Opportunity,
    PerceptionSurvey,
    Stage,
    SuccessPlan,
)
from retainer.success.selectors import (
    LicenseRow,
    health_for_organizations,
    license_adoption,
    onboarding_plans_for,
    plan_view,
    plans_for_list,
)
from retainer.success.serializers import (
    ConvertIn,
    ConvertOut,
    GoalIn,
    HealthScoreOut,
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
    PlanMilestoneDoneIn,
    PlanMilestoneIn,
    PlanMilestoneOut,
    StageIn,
    StageOut,
    StepDoneIn,
    SuccessPlanCreateIn,
    SuccessPlanIn,
    SuccessPlanOut,
    SurveyIn,
    SurveyOut,
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


# --- Success plans, the perception survey and health ------------------------------------------


def _plan_body(plan: SuccessPlan) -> dict[str, Any]:
    return SuccessPlanOut(plan_view(plan=plan)).data


class SuccessPlanList(APIView):
    @extend_schema(
        responses=SuccessPlanOut(many=True),
        description=(
            "Staff with `success.view_successplan`: every organization's plan; a customer "
            "contact: their organization's. Not paginated (one plan per organization)."
        ),
    )
    def get(self, request: Request) -> Response:
        plans = plans_for_list(plans=success_plans_visible_to(request_user(request)))
        return Response([_plan_body(plan) for plan in plans])

    @extend_schema(
        request=SuccessPlanCreateIn,
        responses={201: SuccessPlanOut},
        parameters=[IDEMPOTENCY_PARAMETER],
        description="Start an organization's plan (or change it, when it has one).",
    )
    @idempotent
    def post(self, request: Request) -> Response:
        actor = request_user(request)
        checks.authorize_change_plan(actor)
        values = validated(SuccessPlanCreateIn, request.data)
        organization = values.pop("organization")
        return _created(_plan_body(checks.check_update_plan(actor, organization, **values)))


class SuccessPlanDetail(APIView):
    @extend_schema(responses=SuccessPlanOut)
    def get(self, request: Request, pk: int) -> Response:
        """Another organization's plan is a 404."""
        return Response(_plan_body(access_success_plan(request_user(request), pk)))

    @extend_schema(request=SuccessPlanIn, responses=SuccessPlanOut)
    def patch(self, request: Request, pk: int) -> Response:
        actor = request_user(request)
        checks.authorize_change_plan(actor)
        plan = access_success_plan(actor, pk)
        values = validated(SuccessPlanIn, request.data, partial=True)
        return Response(_plan_body(checks.check_update_plan(actor, plan.organization, **values)))


class SuccessGoalList(APIView):
    @extend_schema(
        request=GoalIn, responses={201: SuccessPlanOut}, parameters=[IDEMPOTENCY_PARAMETER]
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        """Add a goal to the plan; answers the plan."""
        actor = request_user(request)
        checks.authorize_add_goal(actor)
        plan = access_success_plan(actor, pk)
        goal = checks.check_add_goal(actor, plan.organization, **validated(GoalIn, request.data))
        return _created(_plan_body(goal.plan))


class SuccessGoalDetail(APIView):
    @extend_schema(request=GoalIn, responses=SuccessPlanOut)
    def patch(self, request: Request, pk: int) -> Response:
        actor = request_user(request)
        checks.authorize_change_goal(actor)
        goal = access_goal(actor, pk)
        values = validated(GoalIn, request.data, partial=True)
        return Response(_plan_body(checks.check_update_goal(actor, goal, **values).plan))


class MilestoneList(APIView):
    @extend_schema(
        request=PlanMilestoneIn,
        responses={201: PlanMilestoneOut},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        """Add a milestone to the goal; a weight of 0 is a 400 beside `weight`."""
        actor = request_user(request)
        checks.authorize_add_milestone(actor)
        goal = access_goal(actor, pk)
        values = validated(PlanMilestoneIn, request.data)
        return _created(PlanMilestoneOut(checks.check_add_milestone(actor, goal, **values)).data)


class MilestoneDetail(APIView):
    @extend_schema(request=PlanMilestoneIn, responses=PlanMilestoneOut)
    def patch(self, request: Request, pk: int) -> Response:
        actor = request_user(request)
        checks.authorize_change_milestone(actor)
        milestone = access_milestone(actor, pk)
        values = validated(PlanMilestoneIn, request.data, partial=True)
        return Response(
            PlanMilestoneOut(checks.check_update_milestone(actor, milestone, **values)).data
        )


class MilestoneDone(APIView):
    @extend_schema(request=PlanMilestoneDoneIn, responses=PlanMilestoneOut)
    def post(self, request: Request, pk: int) -> Response:
        actor = request_user(request)
        checks.authorize_change_milestone(actor)
        milestone = access_milestone(actor, pk)
        values = validated(PlanMilestoneDoneIn, request.data)
        done = checks.check_set_milestone_done(actor, milestone, **values)
        return Response(PlanMilestoneOut(done).data)


def _survey_links(request: Request, surveys: list[PerceptionSurvey]) -> dict[int, str]:
    return {
        survey.pk: request.build_absolute_uri(
            reverse("success:survey_answer", args=[actions.survey_token(survey)])
        )
        for survey in surveys
        if not survey.is_answered
    }


class PerceptionSurveyList(APIView):
    @extend_schema(
        responses=SurveyOut(many=True),
        parameters=[OpenApiParameter("organization", int, description="Only this organization.")],
        description="The latest 200 surveys, newest first, with the links not answered yet.",
    )
    def get(self, request: Request) -> Response:
        require_perm(request.user, "success.view_perceptionsurvey")
        surveys = perception_surveys_visible_to(request_user(request))
        surveys = surveys.filter(**_organization_filter(request))
        items = list(surveys[:200])
        context = {"links": _survey_links(request, items)}
        return Response(SurveyOut(items, many=True, context=context).data)

    @extend_schema(
        request=SurveyIn,
        responses={201: SurveyOut(many=True)},
        parameters=[IDEMPOTENCY_PARAMETER],
        description=(
            "Send the success-perception survey to `contact`, or to every active customer "
            "admin of the organization: one survey each, with the signed link to hand over."
        ),
    )
    @idempotent
    def post(self, request: Request) -> Response:
        actor = request_user(request)
        checks.authorize_send_survey(actor)
        values = validated(SurveyIn, request.data)
        surveys = checks.check_send_survey(actor, values.pop("organization"), **values)
        context = {"links": _survey_links(request, surveys)}
        return _created(SurveyOut(surveys, many=True, context=context).data)


def _organization_filter(request: Request) -> dict[str, int]:
    organization = request.query_params.get("organization")
    if not organization:
        return {}
    if not organization.isdigit():
        raise InvalidInput("invalid_organization", "organization is an id.")
    return {"organization_id": int(organization)}


def _health_rows(organizations: QuerySet[Organization]) -> list[dict[str, Any]]:
    rows = health_for_organizations(
        organizations=organizations, adoption_threshold=settings.RETAINER_ADOPTION_THRESHOLD
    )
    return [{"organization": org, "health": health} for org, health in rows]


class HealthList(APIView):
    @extend_schema(
        responses=HealthScoreOut(many=True),
        description=(
            "Every active organization's health score, lowest first (no score last), "
            "each line explained. A fixed number of queries; not paginated."
        ),
    )
    def get(self, request: Request) -> Response:
        checks.authorize_view_plans(request_user(request))
        organizations = Organization.objects.filter(is_active=True).order_by("name")
        return Response(HealthScoreOut(_health_rows(organizations), many=True).data)


class HealthDetail(APIView):
    @extend_schema(responses=HealthScoreOut)
    def get(self, request: Request, pk: int) -> Response:
        checks.authorize_view_plans(request_user(request))
        organization = access_organization(request_user(request), pk)
        (row,) = _health_rows(Organization.objects.filter(pk=organization.pk))
        return Response(HealthScoreOut(row).data)
