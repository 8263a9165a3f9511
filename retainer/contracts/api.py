"""REST API for plans, contracts, ledgers, entitlement decisions and training records.

Writes go through ``contracts.checks`` (the permission every door asks for, then the
action) and honour ``Idempotency-Key``; each write view refuses a missing permission
before it reads the body. Customers read their own organization's contracts, balances,
ledgers, events (their customer fields) and decisions (``CustomerDecisionOut``).
Refusals are domain errors, rendered by ``lib.api.exception_handler``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.views import APIView

from retainer.accounts.access import is_vendor_staff, request_user
from retainer.catalog.selectors import offerings_for_product
from retainer.contracts import actions, checks, selectors
from retainer.contracts.access import (
    access_contract,
    access_decision,
    contracts_visible_to,
    decisions_visible_to,
    own_requests_only,
)
from retainer.contracts.entitlement import Decision
from retainer.contracts.filters import (
    ContractFilter,
    DecisionFilter,
    LedgerEntryFilter,
    PlanFilter,
)
from retainer.contracts.models import (
    Contract,
    ContractEvent,
    EntitlementDecision,
    LedgerEntry,
    SupportPlan,
    TrainingRecord,
)
from retainer.contracts.serializers import (
    BalanceOut,
    CancelIn,
    ConsumeIn,
    ContractEventOut,
    ContractIn,
    ContractOut,
    CustomerDecisionOut,
    DecisionOut,
    DecisionRecordIn,
    DecisionRequestIn,
    EntitlementDecisionOut,
    LedgerEntryOut,
    MovementOut,
    OverrideIn,
    PlanIn,
    PlanOut,
    PlanVersionIn,
    ReverseIn,
    TopUpIn,
    TrainingIn,
    TrainingOut,
)
from retainer.lib.api import by_audience, require_perm, validated
from retainer.lib.events import Audience
from retainer.lib.idempotency import IDEMPOTENCY_PARAMETER, idempotent


def _movement(movement: actions.Movement, created: bool = True) -> Response:
    balance = Contract.objects.values_list("balance", flat=True).get(pk=movement.entry.contract_id)
    body = MovementOut(
        {"entry": movement.entry, "replayed": movement.replayed, "balance": balance}
    ).data
    code = status.HTTP_201_CREATED if created and not movement.replayed else status.HTTP_200_OK
    return Response(body, status=code)


# --- Plans ---------------------------------------------------------------------------------


class PlanList(generics.ListAPIView):
    queryset = SupportPlan.objects.none()  # the real one depends on the user
    serializer_class = PlanOut
    filterset_class = PlanFilter

    def get_queryset(self) -> QuerySet[SupportPlan]:
        require_perm(self.request.user, "contracts.view_supportplan")
        return SupportPlan.objects.prefetch_related("products")

    @extend_schema(request=PlanIn, responses={201: PlanOut}, parameters=[IDEMPOTENCY_PARAMETER])
    @idempotent
    def post(self, request: Request) -> Response:
        actor = request_user(request)
        checks.authorize_change_plans(actor)
        plan = checks.check_create_plan(actor, **validated(PlanIn, request.data))
        return Response(PlanOut(plan).data, status=status.HTTP_201_CREATED)


class PlanDetail(APIView):
    @extend_schema(responses=PlanOut)
    def get(self, request: Request, pk: int) -> Response:
        require_perm(request.user, "contracts.view_supportplan")
        return Response(PlanOut(get_object_or_404(SupportPlan, pk=pk)).data)


class PlanNewVersion(APIView):
    """POST: the next version of the plan; contracts already sold keep their terms."""

    @extend_schema(
        request=PlanVersionIn, responses={201: PlanOut}, parameters=[IDEMPOTENCY_PARAMETER]
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        actor = request_user(request)
        checks.authorize_change_plans(actor)
        plan = get_object_or_404(SupportPlan, pk=pk)
        new = checks.check_create_plan_version(
            actor, plan, **validated(PlanVersionIn, request.data)
        )
        return Response(PlanOut(new).data, status=status.HTTP_201_CREATED)


# --- Contracts -----------------------------------------------------------------------------


class ContractList(generics.ListAPIView):
    queryset = Contract.objects.none()  # the real one depends on the user
    serializer_class = ContractOut
    filterset_class = ContractFilter

    def get_queryset(self) -> QuerySet[Contract]:
        return contracts_visible_to(request_user(self.request)).prefetch_related(
            "named_contacts", "covered_products"
        )

    @extend_schema(
        request=ContractIn, responses={201: ContractOut}, parameters=[IDEMPOTENCY_PARAMETER]
    )
    @idempotent
    def post(self, request: Request) -> Response:
        actor = request_user(request)
        checks.authorize_create_contract(actor)
        contract = checks.check_create_contract(actor, **validated(ContractIn, request.data))
        return Response(ContractOut(contract).data, status=status.HTTP_201_CREATED)


class ContractDetail(APIView):
    @extend_schema(responses=ContractOut)
    def get(self, request: Request, pk: int) -> Response:
        return Response(ContractOut(access_contract(request_user(request), pk)).data)


class ContractRenew(APIView):
    @extend_schema(request=None, responses={201: ContractOut}, parameters=[IDEMPOTENCY_PARAMETER])
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        actor = request_user(request)
        checks.authorize_renew_contract(actor)
        renewal = checks.check_renew_contract(actor, access_contract(actor, pk))
        return Response(ContractOut(renewal).data, status=status.HTTP_201_CREATED)


class ContractCancel(APIView):
    @extend_schema(request=CancelIn, responses=ContractOut, parameters=[IDEMPOTENCY_PARAMETER])
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        actor = request_user(request)
        checks.authorize_change_contract(actor)
        contract = access_contract(actor, pk)
        values = validated(CancelIn, request.data)
        cancelled = checks.check_cancel_contract(actor, contract, reason=values.get("reason", ""))
        return Response(ContractOut(cancelled).data)


class ContractTopUp(APIView):
    """POST a top-up, exactly once per key: the ``Idempotency-Key`` header or the body's
    ``key`` (the ledger key is ``top-up:<key>``)."""

    @extend_schema(
        request=TopUpIn,
        responses={
            201: OpenApiResponse(MovementOut, description="The new ledger entry."),
            200: OpenApiResponse(
                MovementOut,
                description=(
                    "A `key` already used on this contract: the original entry, "
                    "`replayed: true`, nothing moved."
                ),
            ),
        },
        parameters=[IDEMPOTENCY_PARAMETER],
        description=(
            "Adds allowance (incidents, or minutes; `unit=hours` for hours), priced with "
            "`price`/`currency` when it is sold. Exactly once per key: with an "
            "`Idempotency-Key` header a replay of the same request returns the stored "
            "response (same status and body, header `Idempotent-Replayed: true`) and the "
            "same header with a different body is a 409 `idempotency_key_reused`; the "
            "body's `key` (or the header, when `key` is absent) is also the ledger key "
            "`top-up:<key>`, so the same key sent again in another request moves nothing "
            "and answers 200 with the original entry and `replayed: true`."
        ),
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        actor = request_user(request)
        checks.authorize_ledger_entry(actor)
        contract = access_contract(actor, pk)
        values = validated(TopUpIn, request.data)
        key = values.pop("key", None) or request.headers.get("Idempotency-Key")
        movement = checks.check_top_up(actor, contract, key=key and f"top-up:{key}", **values)
        return _movement(movement)


class ContractConsume(APIView):
    """POST a consumption (incidents, or minutes); the key makes it exactly-once."""

    @extend_schema(
        request=ConsumeIn, responses={201: MovementOut}, parameters=[IDEMPOTENCY_PARAMETER]
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        actor = request_user(request)
        checks.authorize_ledger_entry(actor)
        contract = access_contract(actor, pk)
        values = validated(ConsumeIn, request.data)
        # Without a key or a source id the request's Idempotency-Key makes it exactly-once.
        if not values.get("key") and not values.get("source_id"):
            values["key"] = request.headers.get("Idempotency-Key")
        return _movement(checks.check_consume(actor, contract, **values))


class ContractReverse(APIView):
    @extend_schema(
        request=ReverseIn, responses={201: MovementOut}, parameters=[IDEMPOTENCY_PARAMETER]
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        actor = request_user(request)
        checks.authorize_ledger_entry(actor)
        contract = access_contract(actor, pk)
        values = validated(ReverseIn, request.data)
        return _movement(checks.check_reverse_entry(actor, contract, **values))


class ContractBalance(APIView):
    @extend_schema(responses=BalanceOut)
    def get(self, request: Request, pk: int) -> Response:
        contract = access_contract(request_user(request), pk)
        summary = selectors.balance_summary(contract=contract)
        return Response(
            BalanceOut(
                {
                    "contract": contract.pk,
                    **summary.__dict__,
                    "ledger_sum": selectors.ledger_sum(contract=contract),
                }
            ).data
        )


class ContractLedger(generics.ListAPIView):
    serializer_class = LedgerEntryOut
    filterset_class = LedgerEntryFilter
    queryset = LedgerEntry.objects.none()

    def get_queryset(self) -> QuerySet[LedgerEntry]:
        contract = access_contract(request_user(self.request), self.kwargs["pk"])
        return selectors.ledger_for_contract(contract=contract)

    def get_serializer_context(self) -> dict[str, Any]:
        contact = own_requests_only(request_user(self.request))
        return {**super().get_serializer_context(), "own_requests_of": contact and contact.pk}


class ContractEvents(generics.ListAPIView):
    """The contract's history, including low-balance warnings (``?type=low_balance``)."""

    serializer_class = ContractEventOut
    filterset_fields = ["type"]
    queryset = ContractEvent.objects.none()

    def get_queryset(self) -> QuerySet[ContractEvent]:
        contract = access_contract(request_user(self.request), self.kwargs["pk"])
        return selectors.events_for_contract(contract=contract)

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "audience": _audience(self.request)}


# --- Decisions -----------------------------------------------------------------------------


def _decide(values: dict[str, Any]) -> tuple[Decision, Any]:
    return actions.decide_for(
        contact=values["contact"],
        product=values["product"],
        channel=values["channel"],
        on=values.get("date") or timezone.now().date(),
        release=values.get("release"),
        environment=values.get("environment"),
        modified_source=values.get("modified_source", False),
        third_party=values.get("third_party", False),
    )


def _decision_body(decision: Decision, values: dict[str, Any]) -> dict[str, Any]:
    offering = None
    if decision.offering_kind:
        offering = offerings_for_product(
            product=values["product"], kind=decision.offering_kind
        ).first()
    return {
        "outcome": decision.outcome,
        "reason": decision.reason,
        "sentence": decision.sentence,
        "contract": decision.contract_id,
        "considered": actions.decision_json(decision),
        "offering_kind": decision.offering_kind,
        "offering": offering,
        "scope_findings": list(decision.scope_findings),
    }


class DecisionPreview(APIView):
    """POST a hypothetical case; get the decision. Nothing is consumed or written."""

    @extend_schema(request=DecisionRequestIn, responses=DecisionOut)
    def post(self, request: Request) -> Response:
        require_perm(request.user, "contracts.view_contract")
        values = validated(DecisionRequestIn, request.data)
        decision, _ = _decide(values)
        return Response(DecisionOut(_decision_body(decision, values)).data)


def _audience(request: Request) -> Audience:
    return Audience.STAFF if is_vendor_staff(request.user) else Audience.CUSTOMER


def _decision_out(
    request: Request, rows: Any, *, many: bool = False
) -> BaseSerializer[EntitlementDecision]:
    """Decisions as their reader may see them: staff everything, customers the allow-list
    (``CustomerDecisionOut``)."""
    listed = list(rows) if many else [rows]
    context = {"request": request, "case_ids": selectors.case_public_ids(listed)}
    staff = _audience(request) is Audience.STAFF
    serializer = EntitlementDecisionOut if staff else CustomerDecisionOut
    return serializer(listed if many else rows, many=many, context=context)


@extend_schema_view(
    get=extend_schema(responses=by_audience(EntitlementDecisionOut, CustomerDecisionOut))
)
class DecisionList(generics.ListAPIView):
    """Decisions; ``?case=<public id>`` gives the one taken for a case."""

    queryset = EntitlementDecision.objects.none()  # the real one depends on the user
    serializer_class = EntitlementDecisionOut
    filterset_class = DecisionFilter

    def get_queryset(self) -> QuerySet[EntitlementDecision]:
        return decisions_visible_to(request_user(self.request))

    def get_serializer(self, *args: Any, **kwargs: Any) -> BaseSerializer[Any]:
        if args and kwargs.get("many"):
            return _decision_out(self.request, args[0], many=True)
        return super().get_serializer(*args, **kwargs)

    @extend_schema(
        request=DecisionRecordIn,
        responses={201: EntitlementDecisionOut},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        require_perm(request.user, "contracts.add_entitlementdecision")
        values = validated(DecisionRecordIn, request.data)
        decision, facts = _decide(values)
        row = actions.do_record_decision(
            decision,
            facts,
            source_type=values["source_type"],
            source_id=values.get("source_id", ""),
            actor=request_user(request),
        )
        return Response(_decision_out(request, row).data, status=status.HTTP_201_CREATED)


class DecisionDetail(APIView):
    @extend_schema(responses=by_audience(EntitlementDecisionOut, CustomerDecisionOut))
    def get(self, request: Request, pk: int) -> Response:
        return Response(_decision_out(request, access_decision(request_user(request), pk)).data)


class DecisionOverride(APIView):
    @extend_schema(
        request=OverrideIn, responses=EntitlementDecisionOut, parameters=[IDEMPOTENCY_PARAMETER]
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        actor = request_user(request)
        checks.authorize_override_decision(actor)
        decision = access_decision(actor, pk)
        values = validated(OverrideIn, request.data)
        row = checks.check_override_decision(
            actor,
            decision,
            new_outcome=values["new_outcome"],
            contract=values.get("contract"),
            reason=values["reason"],
        )
        return Response(_decision_out(request, row).data)


# --- Training ------------------------------------------------------------------------------


class TrainingList(generics.ListAPIView):
    queryset = TrainingRecord.objects.none()  # the real one depends on the user
    serializer_class = TrainingOut
    filterset_fields = ["contact", "course"]

    def get_queryset(self) -> QuerySet[TrainingRecord]:
        require_perm(self.request.user, "contracts.view_trainingrecord")
        return TrainingRecord.objects.all()

    @extend_schema(
        request=TrainingIn, responses={201: TrainingOut}, parameters=[IDEMPOTENCY_PARAMETER]
    )
    @idempotent
    def post(self, request: Request) -> Response:
        actor = request_user(request)
        checks.authorize_record_training(actor)
        record = checks.check_record_training(actor, **validated(TrainingIn, request.data))
        return Response(TrainingOut(record).data, status=status.HTTP_201_CREATED)
