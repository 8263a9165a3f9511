"""The metrics app stores nothing yet (the roll-up tables come with the incremental
refresh); this module only holds the permissions that open the dashboards."""

from __future__ import annotations

from django.db import models


class Dashboard(models.Model):
    """No table: the holder of the dashboards' permissions (``accounts/roles.py`` maps
    them to roles). Support figures need ``view_support_metrics``; recurring revenue,
    renewals, retention and invoiced usage need ``view_revenue_metrics``."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("view_support_metrics", "Can view support metrics"),
            ("view_revenue_metrics", "Can view revenue metrics"),
        ]

    def __str__(self) -> str:
        return "Dashboards"
