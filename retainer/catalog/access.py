"""Fetching catalog rows for a page. The catalog belongs to no organization: every staff
member sees all of it (whether they may change it is ``checks``'s question), so these
only turn a missing row into a 404."""

from __future__ import annotations

from django.http import Http404

from retainer.catalog.models import Product, Release, ServiceOffering


def access_product(user: object, pk: int) -> Product:
    product = Product.objects.filter(pk=pk).first()
    if product is None:
        raise Http404("No such product.")
    return product


def access_release(user: object, pk: int) -> Release:
    release = Release.objects.select_related("product").filter(pk=pk).first()
    if release is None:
        raise Http404("No such release.")
    return release


def access_offering(user: object, pk: int) -> ServiceOffering:
    offering = ServiceOffering.objects.select_related("product").filter(pk=pk).first()
    if offering is None:
        raise Http404("No such service offering.")
    return offering
