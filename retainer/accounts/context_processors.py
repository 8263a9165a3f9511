from typing import Any

from django.http import HttpRequest

from retainer.accounts.access import customer_contact, is_vendor_staff


def roles(request: HttpRequest) -> dict[str, Any]:
    """Whether the signed-in user is vendor staff or a customer contact, for navigation."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"is_vendor_staff": False, "portal_contact": None}
    return {"is_vendor_staff": is_vendor_staff(user), "portal_contact": customer_contact(user)}
