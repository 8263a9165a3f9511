"""REST API for plans, contracts, ledgers, entitlement decisions and training records.

Writes need vendor staff with the matching permission and honour ``Idempotency-Key``;
customers read their own organization's contracts, balances, ledgers and events.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from retainer.catalog.selectors import offerings_for_product
from retainer.contracts import actions, selectors
from retainer.contracts.access import (
    access_contract,
    access_decision,
    contracts_visible_to,
    decisions_visible_to,
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
from retainer.contracts.terms import preset_terms
from retainer.lib.api import ApiError, domain_errors, require_perm, validated
from retainer.lib.auth import request_user
from retainer.lib.idempotency import IDEMPOTENCY_PARAMETER, idempotent

# Domain errors that mean "your input is wrong" rather than "the contract's state forbids it".
BAD_INPUT_CODES = {"unknown_preset", "preset_mismatch", "currency_mismatch"}


def contract_errors() -> AbstractContextManager[None]:
    return domain_errors(actions.ContractError, bad_input=BAD_INPUT_CODES)


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
        require_perm(request.user, "contracts.add_supportplan")
        values = validated(PlanIn, request.data)
        with contract_errors():
            try:
                terms = preset_terms(values["preset"], **values.get("terms", {}))
            except KeyError:
                raise actions.ContractError(
                    "unknown_preset", f"There is no preset called {values['preset']!r}."
                ) from None
            plan = actions.do_create_plan(
                code=values["code"],
                name=values["name"],
                terms=terms,
                products=values.get("products", []),
                actor=request_user(request),
            )
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
        require_perm(request.user, "contracts.add_supportplan")
        plan = get_object_or_404(SupportPlan, pk=pk)
        values = validated(PlanVersionIn, request.data)
        with contract_errors():
            new = actions.do_create_plan_version(
                plan,
                actor=request_user(request),
                name=values.get("name"),
                products=values.get("products"),
                **values.get("terms", {}),
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
        require_perm(request.user, "contracts.add_contract")
        values = validated(ContractIn, request.data)
        with contract_errors():
            contract = actions.do_create_contract(**values, actor=request_user(request))
        return Response(ContractOut(contract).data, status=status.HTTP_201_CREATED)


class ContractDetail(APIView):
    @extend_schema(responses=ContractOut)
    def get(self, request: Request, pk: int) -> Response:
        return Response(ContractOut(access_contract(request_user(request), pk)).data)


class ContractRenew(APIView):
    @extend_schema(request=None, responses={201: ContractOut}, parameters=[IDEMPOTENCY_PARAMETER])
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        require_perm(request.user, "contracts.change_contract", "contracts.add_contract")
        contract = access_contract(request_user(request), pk, for_write=True)
        with contract_errors():
            renewal = actions.do_renew_contract(contract, actor=request_user(request))
        return Response(ContractOut(renewal).data, status=status.HTTP_201_CREATED)


class ContractCancel(APIView):
    @extend_schema(request=CancelIn, responses=ContractOut, parameters=[IDEMPOTENCY_PARAMETER])
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        require_perm(request.user, "contracts.change_contract")
        contract = access_contract(request_user(request), pk, for_write=True)
        values = validated(CancelIn, request.data)
        with contract_errors():
            cancelled = actions.do_cancel_contract(
                contract, reason=values.get("reason", ""), actor=request_user(request)
            )
        return Response(ContractOut(cancelled).data)


class ContractTopUp(APIView):
    @extend_schema(
        request=TopUpIn, responses={201: MovementOut}, parameters=[IDEMPOTENCY_PARAMETER]
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        require_perm(request.user, "contracts.add_ledgerentry")
        contract = access_contract(request_user(request), pk)
        values = validated(TopUpIn, request.data)
        key = values.get("key") or request.headers.get("Idempotency-Key")
        if not key:
            raise ApiError("key_required", "Give a key, or send an Idempotency-Key header.")
        with contract_errors():
            movement = actions.do_top_up(
                contract,
                quantity=values["quantity"],
                key=f"top-up:{key}",
                price=values.get("price"),
                currency=values.get("currency"),
                actor=request_user(request),
            )
        return _movement(movement)


class ContractConsume(APIView):
    """POST a consumption (incidents, or minutes); the key makes it exactly-once."""

    @extend_schema(
        request=ConsumeIn, responses={201: MovementOut}, parameters=[IDEMPOTENCY_PARAMETER]
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        require_perm(request.user, "contracts.add_ledgerentry")
        contract = access_contract(request_user(request), pk)
        values = validated(ConsumeIn, request.data)
        source_id = values.get("source_id", "")
        key = (
            values.get("key")
            or (f"{values['source_type']}:{source_id}" if source_id else "")
            or request.headers.get("Idempotency-Key")
        )
        if not key:
            raise ApiError("key_required", "Give a key, a source_id, or an Idempotency-Key.")
        with contract_errors():
            movement = actions.do_consume(
                contract,
                quantity=values["quantity"],
                key=key,
                source_type=values["source_type"],
                source_id=source_id,
                actor=request_user(request),
            )
        return _movement(movement)


class ContractReverse(APIView):
    @extend_schema(
        request=ReverseIn, responses={201: MovementOut}, parameters=[IDEMPOTENCY_PARAMETER]
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        require_perm(request.user, "contracts.add_ledgerentry")
        contract = access_contract(request_user(request), pk)
        values = validated(ReverseIn, request.data)
        with contract_errors():
            movement = actions.do_reverse_entry(
                contract,
                reverses_key=values["reverses_key"],
                reason=values.get("reason", ""),
                actor=request_user(request),
            )
        return _movement(movement)


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


class ContractEvents(generics.ListAPIView):
    """The contract's history, including low-balance warnings (``?type=low_balance``)."""

    serializer_class = ContractEventOut
    filterset_fields = ["type"]
    queryset = ContractEvent.objects.none()

    def get_queryset(self) -> QuerySet[ContractEvent]:
        contract = access_contract(request_user(self.request), self.kwargs["pk"])
        return selectors.events_for_contract(contract=contract)


# --- Decisions -----------------------------------------------------------------------------


def _decide(values: dict[str, Any]) -> tuple[Decision, Any]:
    return selectors.decide_for(
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


class DecisionList(generics.ListAPIView):
    queryset = EntitlementDecision.objects.none()  # the real one depends on the user
    serializer_class = EntitlementDecisionOut
    filterset_class = DecisionFilter

    def get_queryset(self) -> QuerySet[EntitlementDecision]:
        return decisions_visible_to(request_user(self.request))

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
        return Response(EntitlementDecisionOut(row).data, status=status.HTTP_201_CREATED)


class DecisionDetail(APIView):
    @extend_schema(responses=EntitlementDecisionOut)
    def get(self, request: Request, pk: int) -> Response:
        return Response(EntitlementDecisionOut(access_decision(request_user(request), pk)).data)


class DecisionOverride(APIView):
    @extend_schema(
        request=OverrideIn, responses=EntitlementDecisionOut, parameters=[IDEMPOTENCY_PARAMETER]
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        require_perm(request.user, "contracts.override_entitlementdecision")
        decision = access_decision(request_user(request), pk, for_write=True)
        values = validated(OverrideIn, request.data)
        row = actions.do_override_decision(
            decision,
            new_outcome=values["new_outcome"],
            contract=values.get("contract"),
            reason=values["reason"],
            actor=request_user(request),
        )
        return Response(EntitlementDecisionOut(row).data)


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
        require_perm(request.user, "contracts.add_trainingrecord")
        values = validated(TrainingIn, request.data)
        record = actions.do_record_training(**values, actor=request_user(request))
        return Response(TrainingOut(record).data, status=status.HTTP_201_CREATED)
