from django.urls import path

from retainer.catalog import api

urlpatterns = [
    path("products/", api.ProductList.as_view(), name="product_list"),
    path("products/<id:pk>/", api.ProductDetail.as_view(), name="product_detail"),
    path("products/<id:product_pk>/releases/", api.ReleaseList.as_view(), name="release_list"),
    path("releases/<id:pk>/", api.ReleaseDetail.as_view(), name="release_detail"),
    path(
        "products/<id:product_pk>/scope-policy/",
        api.ScopePolicyDetail.as_view(),
        name="scope_policy",
    ),
    path("products/<id:product_pk>/scope-check/", api.ScopeCheck.as_view(), name="scope_check"),
    path("environments/", api.EnvironmentList.as_view(), name="environment_list"),
    path("environments/<id:pk>/", api.EnvironmentDetail.as_view(), name="environment_detail"),
    path("service-offerings/", api.OfferingList.as_view(), name="offering_list"),
    path("service-offerings/<id:pk>/", api.OfferingDetail.as_view(), name="offering_detail"),
]
