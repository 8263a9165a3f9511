from django.urls import path

from retainer.accounts import api

urlpatterns = [
    path("organizations/", api.OrganizationList.as_view(), name="organization_list"),
    path("organizations/<id:pk>/", api.OrganizationDetail.as_view(), name="organization_detail"),
    path("contacts/", api.ContactList.as_view(), name="contact_list"),
    path("contacts/<id:pk>/", api.ContactDetail.as_view(), name="contact_detail"),
    path(
        "contacts/<id:pk>/deactivate/",
        api.ContactActivation.as_view(active=False),
        name="contact_deactivate",
    ),
    path(
        "contacts/<id:pk>/reactivate/",
        api.ContactActivation.as_view(active=True),
        name="contact_reactivate",
    ),
]
