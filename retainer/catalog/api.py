"""REST API for the catalog. Everyone signed in reads it (it is the published scope of
support); changing it needs the matching catalog permission."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from retainer.accounts.access import request_user
from retainer.catalog import checks, selectors
from retainer.catalog.models import Environment, Product, Release, ScopePolicy, ServiceOffering
from retainer.catalog.serializers import (
    EnvironmentIn,
    EnvironmentOut,
    OfferingIn,
    OfferingOut,
    ProductIn,
    ProductOut,
    ReleaseIn,
    ReleaseOut,
    ScopeCheckIn,
    ScopeCheckOut,
    ScopePolicyIn,
    ScopePolicyOut,
)
from retainer.lib.api import validated
from retainer.lib.errors import InvalidInput


class _CatalogList(generics.ListAPIView):
    """List for everyone signed in; POST creates through the model's ``check``."""

    model: type[models.Model]
    in_serializer: type[serializers.Serializer]
    check: Any  # a staticmethod wrapping checks.check_save_<noun>
    filterset_fields: list[str] = []

    def get_queryset(self) -> Any:
        return self.model._default_manager.all()

    def create(self, request: Request, **values: Any) -> Response:
        actor = request_user(request)
        checks.authorize_save(actor, self.model, creating=True)
        values.update(validated(self.in_serializer, request.data))
        instance = self.check(actor, None, **values)
        return Response(self.get_serializer(instance).data, status=status.HTTP_201_CREATED)


class _CatalogDetail(APIView):
    model: type[models.Model]
    in_serializer: type[serializers.Serializer]
    out_serializer: type[serializers.Serializer]
    check: Any  # a staticmethod wrapping checks.check_save_<noun>

    def get(self, request: Request, pk: int) -> Response:
        return Response(self.out_serializer(get_object_or_404(self.model, pk=pk)).data)

    def patch(self, request: Request, pk: int) -> Response:
        actor = request_user(request)
        checks.authorize_save(actor, self.model, creating=False)
        instance = get_object_or_404(self.model, pk=pk)
        values = validated(self.in_serializer, request.data, partial=True)
        self.check(actor, instance, **values)
        return Response(self.out_serializer(instance).data)


class ProductList(_CatalogList):
    model = Product
    serializer_class = ProductOut
    in_serializer = ProductIn
    check = staticmethod(checks.check_save_product)
    filterset_fields = ["is_active", "currency"]

    @extend_schema(request=ProductIn, responses={201: ProductOut})
    def post(self, request: Request) -> Response:
        return self.create(request)


@extend_schema(request=ProductIn, responses=ProductOut)
class ProductDetail(_CatalogDetail):
    model = Product
    in_serializer = ProductIn
    out_serializer = ProductOut
    check = staticmethod(checks.check_save_product)


class ReleaseList(_CatalogList):
    queryset = Release.objects.none()  # the real one is per product, in get_queryset
    model = Release
    serializer_class = ReleaseOut
    in_serializer = ReleaseIn
    check = staticmethod(checks.check_save_release)

    def get_queryset(self) -> Any:
        return Release.objects.filter(product_id=self.kwargs["product_pk"]).order_by("-order")

    @extend_schema(request=ReleaseIn, responses={201: ReleaseOut})
    def post(self, request: Request, product_pk: int) -> Response:
        return self.create(request, product=get_object_or_404(Product, pk=product_pk))


@extend_schema(request=ReleaseIn, responses=ReleaseOut)
class ReleaseDetail(_CatalogDetail):
    model = Release
    in_serializer = ReleaseIn
    out_serializer = ReleaseOut
    check = staticmethod(checks.check_save_release)


class EnvironmentList(_CatalogList):
    model = Environment
    serializer_class = EnvironmentOut
    in_serializer = EnvironmentIn
    check = staticmethod(checks.check_save_environment)
    filterset_fields = ["kind", "is_active"]

    @extend_schema(request=EnvironmentIn, responses={201: EnvironmentOut})
    def post(self, request: Request) -> Response:
        return self.create(request)


@extend_schema(request=EnvironmentIn, responses=EnvironmentOut)
class EnvironmentDetail(_CatalogDetail):
    model = Environment
    in_serializer = EnvironmentIn
    out_serializer = EnvironmentOut
    check = staticmethod(checks.check_save_environment)


class OfferingList(_CatalogList):
    model = ServiceOffering
    serializer_class = OfferingOut
    in_serializer = OfferingIn
    check = staticmethod(checks.check_save_offering)
    filterset_fields = ["kind", "product", "is_active"]

    @extend_schema(request=OfferingIn, responses={201: OfferingOut})
    def post(self, request: Request) -> Response:
        return self.create(request)


@extend_schema(request=OfferingIn, responses=OfferingOut)
class OfferingDetail(_CatalogDetail):
    model = ServiceOffering
    in_serializer = OfferingIn
    out_serializer = OfferingOut
    check = staticmethod(checks.check_save_offering)


class ScopePolicyDetail(APIView):
    """The scope policy of one product (PUT creates or replaces it)."""

    @extend_schema(responses=ScopePolicyOut)
    def get(self, request: Request, product_pk: int) -> Response:
        policy = get_object_or_404(
            ScopePolicy.objects.prefetch_related("supported_environments"), product_id=product_pk
        )
        return Response(ScopePolicyOut(policy).data)

    @extend_schema(request=ScopePolicyIn, responses=ScopePolicyOut)
    def put(self, request: Request, product_pk: int) -> Response:
        actor = request_user(request)
        checks.authorize_save(actor, ScopePolicy, creating=True)
        product = get_object_or_404(Product, pk=product_pk)
        values = validated(ScopePolicyIn, request.data)
        policy = ScopePolicy.objects.filter(product=product).first()
        policy = checks.check_save_scope_policy(actor, policy, product=product, **values)
        return Response(ScopePolicyOut(policy).data)


class ScopeCheck(APIView):
    """Is release R / environment E in scope for product P on date D, and why not."""

    @extend_schema(
        parameters=[
            OpenApiParameter("release", int),
            OpenApiParameter("environment", int),
            OpenApiParameter("date", str, description="ISO date; today when absent"),
            OpenApiParameter("modified_source", bool),
            OpenApiParameter("third_party", bool),
        ],
        responses=ScopeCheckOut,
    )
    def get(self, request: Request, product_pk: int) -> Response:
        product = get_object_or_404(Product, pk=product_pk)
        query = validated(ScopeCheckIn, request.query_params, refuse_unknown=False)
        release = None
        if "release" in query:
            release = Release.objects.filter(pk=query["release"]).first()
            if release is None:
                raise InvalidInput(
                    "unknown_release", "There is no release with this id.", field="release"
                )
        environment = None
        if "environment" in query:
            environment = Environment.objects.filter(pk=query["environment"]).first()
            if environment is None:
                raise InvalidInput(
                    "unknown_environment",
                    "There is no environment with this id.",
                    field="environment",
                )
        on = query.get("date") or timezone.localdate()
        verdict = selectors.scope_verdict(
            product=product,
            release=release,
            environment=environment,
            on=on,
            modified_source=query["modified_source"],
            third_party=query["third_party"],
        )
        findings = []
        for finding in verdict.findings:
            offering = selectors.offerings_for_product(
                product=product, kind=finding.offering_kind
            ).first()
            findings.append(
                {
                    "code": finding.code,
                    "message": finding.message,
                    "offering_kind": finding.offering_kind,
                    "offering": OfferingOut(offering).data if offering else None,
                }
            )
        body = {
            "in_scope": verdict.in_scope,
            "date": on,
            "current_release": verdict.current_release_id,
            "supported_releases": list(verdict.supported_release_ids),
            "findings": findings,
        }
        return Response(ScopeCheckOut(body).data)
