"""Every change of the catalog's tables renews the ``catalog`` generation token, so the
per-process copy of the catalog (``catalog.selectors.catalog``) reloads at once."""

from django.db import migrations

from retainer.lib.snapshots import generation_triggers

TABLES = [
    "catalog_product",
    "catalog_release",
    "catalog_environment",
    "catalog_scopepolicy",
    "catalog_scopepolicy_supported_environments",
]


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0001_initial"),
        ("lib", "0002_generations"),
    ]

    operations = [generation_triggers("catalog", TABLES)]
