"""Statements compiled once: the same rows as the ORM, and refusals where they would differ."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.apps import apps
from django.db import DatabaseError, IntegrityError, models, transaction
from django.db.models import signals
from django.utils import timezone

from retainer.accounts.models import Contact, Organization, User
from retainer.lib import compiled
from retainer.lib.models import IdempotencyKey, OutboxMessage

pytestmark = pytest.mark.django_db


def _contact(email: str = "ada@acme.test", org: str = "Acme") -> Contact:
    """A contact with a login (``contact.user`` is set)."""
    organization = Organization.objects.create(name=org)
    user = User.objects.create_user(email, "pw-long-enough-123")
    return Contact.objects.create(
        organization=organization, full_name="Ada", email=email, user=user
    )


def _fields(obj: models.Model) -> dict[str, object]:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def test_a_model_query_returns_what_the_orm_returns_with_its_related_objects(
    django_assert_num_queries: Any,
) -> None:
    contact = _contact()
    _contact("bob@globex.test", "Globex")
    assert contact.user is not None
    select = compiled.Select[User](
        lambda pk: User.objects.select_related("contact__organization").filter(pk=pk)
    )
    for _ in range(2):  # compiled on the first call, reused on the second
        user = select.first(contact.user.pk)
        assert user is not None
        expected = User.objects.select_related("contact__organization").get(pk=contact.user.pk)
        assert _fields(user) == _fields(expected)
        assert isinstance(user.date_joined, dt.datetime)  # converted from the database
        with django_assert_num_queries(0):  # the related rows came with it
            assert user.contact.organization.name == "Acme"
        assert user._state.adding is False
    assert select.first(-1) is None


def test_values_and_constants_stay_in_their_places() -> None:
    first = _contact("ada@acme.test", "Acme")
    second = _contact("bob@acme.test", "Acme 2")
    Contact.objects.filter(pk=second.pk).update(is_active=False)
    select = compiled.Select[tuple[int, str]](
        lambda name: (
            Contact.objects.filter(organization__name=name, is_active=True)
            .order_by("email")
            .values_list("pk", "email")
        )
    )
    assert select.all("Acme") == [(first.pk, "ada@acme.test")]
    assert select.all("Acme 2") == []  # the constant is_active=True stayed
    emails = compiled.Select[str](
        lambda name: Contact.objects.filter(organization__name=name).values_list("email", flat=True)
    )
    assert emails.all("Acme 2") == ["bob@acme.test"]
    assert emails.all("x' OR 1=1 --") == []


def test_a_query_that_changes_or_drops_a_value_is_refused() -> None:
    prefixed = compiled.Select[Contact](lambda name: Contact.objects.filter(email__startswith=name))
    with pytest.raises(TypeError, match="once and unchanged"):
        prefixed.all("ada")  # compiled to 'ada%'
    twice = compiled.Select[Contact](
        lambda n: Contact.objects.filter(pk=n) | Contact.objects.filter(pk=n)
    )
    with pytest.raises(TypeError, match="once and unchanged"):
        twice.all(1)
    listed = compiled.Select[Contact](lambda pk: Contact.objects.filter(pk__in=[pk]))
    with pytest.raises(TypeError, match="int and str"):
        listed.all([1])
    with pytest.raises(TypeError, match="int and str"):
        compiled.Select[Contact](lambda flag: Contact.objects.filter(is_active=flag)).all(True)
    prefetching = compiled.Select[Organization](
        lambda pk: Organization.objects.filter(pk=pk).prefetch_related("contacts")
    )
    with pytest.raises(TypeError, match="prefetch"):
        prefetching.all(1)


def test_insert_sets_keys_defaults_and_state_like_save() -> None:
    user = _contact().user
    assert user is not None
    key = compiled.insert(
        IdempotencyKey(
            user=user,
            key="k1",
            fingerprint="f",
            method="POST",
            path="/x",
            status_code=201,
            response_body={"amount": "1.10", "items": [1, 2]},
        )
    )
    assert key.pk is not None and key._state.adding is False
    stored = IdempotencyKey.objects.get(pk=key.pk)
    assert stored.response_body == {"amount": "1.10", "items": [1, 2]}
    assert stored.created_at == key.created_at  # auto_now_add applied before the insert
    with pytest.raises(IntegrityError), transaction.atomic():
        compiled.insert(
            IdempotencyKey(
                user=user, key="k1", fingerprint="g", method="POST", path="/x", status_code=201
            )
        )


def test_insert_many_returns_keys_in_order() -> None:
    now = timezone.now()
    rows = [
        OutboxMessage(topic=f"t.{n}", source="s", source_id=n, payload={"n": n}, occurred_at=now)
        for n in range(5)
    ]
    compiled.insert_many(rows)
    assert [OutboxMessage.objects.get(pk=row.pk).payload for row in rows] == [
        {"n": n} for n in range(5)
    ]
    assert compiled.insert_many([]) == []
    another = OutboxMessage(topic="x", source="s", source_id=1, payload={}, occurred_at=now)
    with pytest.raises(TypeError, match="one model"):
        compiled.insert_many([another, Organization(name="Mixed")])


def test_update_writes_only_the_named_fields_and_refuses_a_missing_row() -> None:
    contact = _contact()
    organization = contact.organization
    Organization.objects.filter(pk=organization.pk).update(time_zone="Europe/Paris")
    organization.name = "Acme Inc."
    compiled.update(organization, ["name"])
    organization.refresh_from_db()
    assert (organization.name, organization.time_zone) == ("Acme Inc.", "Europe/Paris")
    gone = Organization(pk=10**9, name="Gone")
    with pytest.raises(DatabaseError, match="matched no row"):
        compiled.update(gone, ["name"])
    with pytest.raises(TypeError, match="concrete"):
        compiled.update(organization, ["contacts"])


def test_the_project_declares_no_model_signals() -> None:
    """The compiled writes skip ``save()`` and its signals, like ``bulk_create``; a
    receiver on a project model would be silently bypassed."""
    project = [m for m in apps.get_models() if m.__module__.startswith("retainer.")]
    for signal in (signals.pre_save, signals.post_save, signals.pre_init, signals.post_init):
        for model in project:
            assert not signal.has_listeners(model), f"{signal} has a receiver for {model}"
