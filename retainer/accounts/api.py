"""REST API for organizations and contacts. Customers read their own organization only."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from retainer.accounts import actions
from retainer.accounts.access import (
    access_contact,
    access_organization,
    contacts_visible_to,
    organizations_visible_to,
)
from retainer.accounts.filters import ContactFilter, OrganizationFilter
from retainer.accounts.models import Contact, Organization
from retainer.accounts.serializers import (
    ContactIn,
    ContactOut,
    ContactUpdateIn,
    OrganizationIn,
    OrganizationOut,
)
from retainer.lib.api import require_perm
from retainer.lib.auth import request_user


class OrganizationList(generics.ListAPIView):
    queryset = Organization.objects.none()  # the real one is per user, in get_queryset
    serializer_class = OrganizationOut
    filterset_class = OrganizationFilter

    def get_queryset(self) -> QuerySet[Organization]:
        return organizations_visible_to(self.request.user).prefetch_related("domains")  # type: ignore[arg-type]

    @extend_schema(request=OrganizationIn, responses={201: OrganizationOut})
    def post(self, request: Request) -> Response:
        require_perm(request.user, "accounts.add_organization")
        data = OrganizationIn(data=request.data)
        data.is_valid(raise_exception=True)
        organization = actions.do_create_organization(
            **data.validated_data, actor=request_user(request)
        )
        return Response(OrganizationOut(organization).data, status=status.HTTP_201_CREATED)


class OrganizationDetail(APIView):
    @extend_schema(responses=OrganizationOut)
    def get(self, request: Request, pk: int) -> Response:
        return Response(OrganizationOut(access_organization(request_user(request), pk)).data)

    @extend_schema(request=OrganizationIn, responses=OrganizationOut)
    def patch(self, request: Request, pk: int) -> Response:
        organization = access_organization(request_user(request), pk, for_write=True)
        data = OrganizationIn(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        domains = values.pop("domains", None)
        actions.do_update_organization(organization, actor=request_user(request), **values)
        if domains is not None:
            actions.do_set_organization_domains(organization, domains, actor=request_user(request))
        return Response(OrganizationOut(organization).data)


class ContactList(generics.ListAPIView):
    queryset = Contact.objects.none()  # the real one is per user, in get_queryset
    serializer_class = ContactOut
    filterset_class = ContactFilter

    def get_queryset(self) -> QuerySet[Contact]:
        return contacts_visible_to(request_user(self.request))

    @extend_schema(request=ContactIn, responses={201: ContactOut})
    def post(self, request: Request) -> Response:
        require_perm(request.user, "accounts.add_contact")
        data = ContactIn(data=request.data)
        data.is_valid(raise_exception=True)
        contact = actions.do_create_contact(**data.validated_data, actor=request_user(request))
        return Response(ContactOut(contact).data, status=status.HTTP_201_CREATED)


class ContactDetail(APIView):
    @extend_schema(responses=ContactOut)
    def get(self, request: Request, pk: int) -> Response:
        return Response(ContactOut(access_contact(request_user(request), pk)).data)

    @extend_schema(request=ContactUpdateIn, responses=ContactOut)
    def patch(self, request: Request, pk: int) -> Response:
        contact = access_contact(request_user(request), pk, for_write=True)
        data = ContactUpdateIn(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        actions.do_update_contact(contact, actor=request_user(request), **data.validated_data)
        return Response(ContactOut(contact).data)


class ContactActivation(APIView):
    """POST .../deactivate/ or .../reactivate/: people are deactivated, never deleted."""

    active = False

    @extend_schema(request=None, responses=ContactOut)
    def post(self, request: Request, pk: int) -> Response:
        contact = access_contact(request_user(request), pk, for_write=True)
        actions.do_set_contact_active(contact, self.active, actor=request_user(request))
        return Response(ContactOut(contact).data)
