"""REST API of webhooks (``/api/v1/webhooks/…``): admins' endpoints, their delivery
logs and replays, through the same check functions as the console."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from retainer.accounts.access import request_user
from retainer.automation import checks
from retainer.automation.access import (
    access_delivery,
    access_endpoint,
    deliveries_visible_to,
    endpoints_visible_to,
)
from retainer.automation.filters import DeliveryFilter
from retainer.automation.models import WebhookDelivery, WebhookEndpoint
from retainer.automation.serializers import (
    DeliveryOut,
    EndpointCreatedOut,
    EndpointIn,
    EndpointOut,
)
from retainer.lib.api import validated
from retainer.lib.idempotency import IDEMPOTENCY_PARAMETER, idempotent


class WebhookList(generics.ListAPIView):
    """Every webhook endpoint (``automation.view_webhookendpoint``); POST adds one and
    answers with its secret, the only time it is shown."""

    queryset = WebhookEndpoint.objects.none()
    serializer_class = EndpointOut

    def get_queryset(self) -> QuerySet[WebhookEndpoint]:
        checks.authorize_view_webhooks(self.request.user)
        return endpoints_visible_to(self.request.user).order_by("id")

    @extend_schema(
        request=EndpointIn, responses={201: EndpointCreatedOut}, parameters=[IDEMPOTENCY_PARAMETER]
    )
    @idempotent
    def post(self, request: Request) -> Response:
        actor = request_user(request)
        checks.authorize_add_webhook(actor)
        endpoint = checks.check_create_endpoint(actor, **validated(EndpointIn, request.data))
        return Response(EndpointCreatedOut(endpoint).data, status=status.HTTP_201_CREATED)


class WebhookDetail(APIView):
    @extend_schema(responses=EndpointOut)
    def get(self, request: Request, pk: int) -> Response:
        return Response(EndpointOut(access_endpoint(request.user, pk)).data)

    @extend_schema(request=EndpointIn, responses=EndpointOut)
    def patch(self, request: Request, pk: int) -> Response:
        actor = request_user(request)
        endpoint = access_endpoint(actor, pk)
        checks.authorize_change_webhook(actor)
        values = validated(EndpointIn, request.data, partial=True)
        return Response(EndpointOut(checks.check_change_endpoint(actor, endpoint, **values)).data)


def _endpoint_post(
    request: Request, pk: int, check: Callable[..., WebhookEndpoint], out: Any
) -> Response:
    actor = request_user(request)
    endpoint = access_endpoint(actor, pk)
    checks.authorize_change_webhook(actor)
    return Response(out(check(actor, endpoint)).data)


class WebhookDisable(APIView):
    @extend_schema(request=None, responses=EndpointOut)
    def post(self, request: Request, pk: int) -> Response:
        return _endpoint_post(request, pk, checks.check_disable_endpoint, EndpointOut)


class WebhookEnable(APIView):
    @extend_schema(request=None, responses=EndpointOut)
    def post(self, request: Request, pk: int) -> Response:
        return _endpoint_post(request, pk, checks.check_enable_endpoint, EndpointOut)


class WebhookRotateSecret(APIView):
    @extend_schema(request=None, responses=EndpointCreatedOut)
    def post(self, request: Request, pk: int) -> Response:
        return _endpoint_post(request, pk, checks.check_rotate_secret, EndpointCreatedOut)


class WebhookDeliveryList(generics.ListAPIView):
    """The delivery log of one endpoint, newest first."""

    queryset = WebhookDelivery.objects.none()
    serializer_class = DeliveryOut
    filterset_class = DeliveryFilter

    def get_queryset(self) -> QuerySet[WebhookDelivery]:
        endpoint = access_endpoint(self.request.user, self.kwargs["pk"])
        return deliveries_visible_to(self.request.user).filter(endpoint=endpoint).defer("payload")


class WebhookDeliveryReplay(APIView):
    @extend_schema(request=None, responses=DeliveryOut)
    def post(self, request: Request, pk: int) -> Response:
        actor = request_user(request)
        delivery = access_delivery(actor, pk)
        checks.authorize_replay(actor)
        return Response(DeliveryOut(checks.check_replay_delivery(actor, delivery)).data)
