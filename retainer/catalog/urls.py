from django.urls import path

from retainer.catalog import views

app_name = "catalog"

urlpatterns = [
    path("scope-of-support/", views.scope_of_support, name="scope_of_support"),
    path("console/catalog/products/", views.product_list, name="product_list"),
    path("console/catalog/products/new/", views.product_new, name="product_new"),
    path("console/catalog/products/<id:pk>/", views.product_detail, name="product_detail"),
    path("console/catalog/products/<id:pk>/edit/", views.product_edit, name="product_edit"),
    path(
        "console/catalog/products/<id:product_pk>/releases/new/",
        views.release_new,
        name="release_new",
    ),
    path(
        "console/catalog/products/<id:product_pk>/scope-policy/",
        views.scope_policy_edit,
        name="scope_policy_edit",
    ),
    path("console/catalog/releases/<id:pk>/edit/", views.release_edit, name="release_edit"),
    path("console/catalog/service-offerings/", views.offering_list, name="offering_list"),
    path("console/catalog/service-offerings/new/", views.offering_new, name="offering_new"),
    path(
        "console/catalog/service-offerings/<id:pk>/edit/",
        views.offering_edit,
        name="offering_edit",
    ),
    path(
        "console/catalog/service-offerings/<id:pk>/active/",
        views.offering_active,
        name="offering_active",
    ),
]
