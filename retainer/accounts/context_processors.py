import json
from typing import Any

from django.http import HttpRequest

from retainer.accounts.access import customer_contact, is_vendor_staff
from retainer.accounts.shortcuts import client_config


def roles(request: HttpRequest) -> dict[str, Any]:
    """Whether the signed-in user is vendor staff or a customer contact, for navigation;
    for staff, their keyboard shortcuts as JSON (base.html's ``retainer-shortcuts`` meta
    element, read by ``console.js``)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"is_vendor_staff": False, "portal_contact": None, "shortcut_settings": ""}
    staff = is_vendor_staff(user)
    shortcuts = (
        json.dumps(client_config(enabled=user.shortcuts_enabled, overrides=user.shortcut_keys))
        if staff
        else ""
    )
    return {
        "is_vendor_staff": staff,
        "portal_contact": customer_contact(user),
        "shortcut_settings": shortcuts,
    }
