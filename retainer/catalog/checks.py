"""Who may change the catalog: one rule per operation, whatever the door (the API, the
admin).

``check_save_<noun>(actor, instance_or_None, **values)`` refuses an actor without the
model's add (new object) or change permission with ``NotPermitted`` (403 everywhere) and
then calls the ``do_save_*`` action, which validates the whole input before it writes.
``authorize_save`` states the rule alone for a door that must refuse before it parses
its input. Reading the catalog in the console needs ``catalog.view_product``, which every
staff role holds (``authorize_view``).
"""

from __future__ import annotations

from typing import Any

from django.db import models

from retainer.accounts.checks import require_staff_permission
from retainer.accounts.models import User
from retainer.catalog import actions
from retainer.catalog.models import Environment, Product, Release, ScopePolicy, ServiceOffering


def authorize_save(actor: Any, model: type[models.Model], *, creating: bool) -> None:
    """``catalog.add_<model>`` to create, ``catalog.change_<model>`` to change. A scope
    policy is put whole, created or replaced, so it needs both."""
    name = model._meta.model_name
    if model is ScopePolicy:
        require_staff_permission(actor, f"catalog.add_{name}", f"catalog.change_{name}")
    else:
        require_staff_permission(actor, f"catalog.{'add' if creating else 'change'}_{name}")


def authorize_view(actor: Any) -> None:
    """Every staff role reads the catalog in the console; customers read only the
    published scope of support."""
    require_staff_permission(actor, "catalog.view_product")


def check_save_product(actor: User, product: Product | None, **values: Any) -> Product:
    authorize_save(actor, Product, creating=product is None)
    return actions.do_save_product(product, actor=actor, **values)


def check_save_release(actor: User, release: Release | None, **values: Any) -> Release:
    authorize_save(actor, Release, creating=release is None)
    return actions.do_save_release(release, actor=actor, **values)


def check_save_environment(
    actor: User, environment: Environment | None, **values: Any
) -> Environment:
    authorize_save(actor, Environment, creating=environment is None)
    return actions.do_save_environment(environment, actor=actor, **values)


def check_save_scope_policy(actor: User, policy: ScopePolicy | None, **values: Any) -> ScopePolicy:
    authorize_save(actor, ScopePolicy, creating=policy is None)
    return actions.do_save_scope_policy(policy, actor=actor, **values)


def check_save_offering(
    actor: User, offering: ServiceOffering | None, **values: Any
) -> ServiceOffering:
    authorize_save(actor, ServiceOffering, creating=offering is None)
    return actions.do_save_offering(offering, actor=actor, **values)


def check_set_offering_active(
    actor: User, offering: ServiceOffering, *, active: bool
) -> ServiceOffering:
    """Withdraw an offering (``active=False``: no longer proposed for out-of-scope work nor
    published) or offer it again; ``catalog.change_serviceoffering`` either way."""
    authorize_save(actor, ServiceOffering, creating=False)
    return actions.do_save_offering(offering, actor=actor, is_active=active)
