"""REST API for organizations and contacts. Customers read their own organization only."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from retainer.accounts import checks
from retainer.accounts.access import (
    access_contact,
    access_organization,
    contacts_visible_to,
    organizations_visible_to,
    request_user,
)
from retainer.accounts.filters import ContactFilter, OrganizationFilter
from retainer.accounts.models import Contact, Organization
from retainer.accounts.serializers import (
    ContactIn,
    ContactOut,
    ContactUpdateIn,
    NoInput,
    OrganizationIn,
    OrganizationOut,
)
from retainer.lib.api import validated


class OrganizationList(generics.ListAPIView):
    queryset = Organization.objects.none()  # the real one is per user, in get_queryset
    serializer_class = OrganizationOut
    filterset_class = OrganizationFilter

    def get_queryset(self) -> QuerySet[Organization]:
        return organizations_visible_to(self.request.user).prefetch_related("domains")  # type: ignore[arg-type]

    @extend_schema(request=OrganizationIn, responses={201: OrganizationOut})
    def post(self, request: Request) -> Response:
        actor = request_user(request)
        checks.authorize_create_organization(actor)
        values = validated(OrganizationIn, request.data)
        organization = checks.check_create_organization(actor, **values)
        return Response(OrganizationOut(organization).data, status=status.HTTP_201_CREATED)


class OrganizationDetail(APIView):
    @extend_schema(responses=OrganizationOut)
    def get(self, request: Request, pk: int) -> Response:
        return Response(OrganizationOut(access_organization(request_user(request), pk)).data)

    @extend_schema(request=OrganizationIn, responses=OrganizationOut)
    def patch(self, request: Request, pk: int) -> Response:
        """Change fields and domains together: a refused value changes nothing."""
        actor = request_user(request)
        organization = access_organization(actor, pk)
        checks.authorize_change_organization(actor)
        values = validated(OrganizationIn, request.data, partial=True)
        checks.check_update_organization(actor, organization, **values)
        return Response(OrganizationOut(organization).data)


class ContactList(generics.ListAPIView):
    queryset = Contact.objects.none()  # the real one is per user, in get_queryset
    serializer_class = ContactOut
    filterset_class = ContactFilter

    def get_queryset(self) -> QuerySet[Contact]:
        return contacts_visible_to(request_user(self.request))

    @extend_schema(request=ContactIn, responses={201: ContactOut})
    def post(self, request: Request) -> Response:
        actor = request_user(request)
        checks.authorize_create_contact(actor)
        contact = checks.check_create_contact(actor, **validated(ContactIn, request.data))
        return Response(ContactOut(contact).data, status=status.HTTP_201_CREATED)


class ContactDetail(APIView):
    @extend_schema(responses=ContactOut)
    def get(self, request: Request, pk: int) -> Response:
        return Response(ContactOut(access_contact(request_user(request), pk)).data)

    @extend_schema(request=ContactUpdateIn, responses=ContactOut)
    def patch(self, request: Request, pk: int) -> Response:
        actor = request_user(request)
        contact = access_contact(actor, pk)
        checks.authorize_manage_contact(actor, contact)
        values = validated(ContactUpdateIn, request.data, partial=True)
        checks.check_update_contact(actor, contact, **values)
        return Response(ContactOut(contact).data)


class ContactActivation(APIView):
    """POST .../deactivate/ or .../reactivate/: people are deactivated, never deleted."""

    active = False

    @extend_schema(request=None, responses=ContactOut)
    def post(self, request: Request, pk: int) -> Response:
        actor = request_user(request)
        contact = access_contact(actor, pk)
        checks.authorize_manage_contact(actor, contact)
        validated(NoInput, request.data)
        checks.check_set_contact_active(actor, contact, self.active)
        return Response(ContactOut(contact).data)
