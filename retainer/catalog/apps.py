from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "retainer.catalog"
    label = "catalog"
    verbose_name = "Catalog"
