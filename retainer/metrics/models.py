"""The metrics app's tables: the permissions holder, and the support roll-ups kept
current from case events (``rollups.py``, docs/metrics.md "Roll-ups")."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


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


class SupportMonth(models.Model):
    """One support figure's tally for a month and one combination of the dashboards'
    filter dimensions (product, team — the case's queue, 0 for none — and plan tier,
    ``""`` for none). ``figure`` names what is counted (``opened``, ``demand.<dimension>``,
    ``resolved``, ``reopened``, ``sla.<clock kind>``, ``csat``, ``frt``, ``ttr``) and
    ``value`` the value counted (a dimension's value, ``met``/``missed``, a rating, a
    duration bucket); ``micros`` sums business time in microseconds for ``frt``/``ttr``.
    Derived data: rewritten by ``rebuild_metrics``, never edited by hand."""

    month = models.DateField()
    product_id = models.IntegerField()
    team_id = models.IntegerField(default=0)
    tier = models.CharField(max_length=20, blank=True)
    figure = models.CharField(max_length=40)
    value = models.CharField(max_length=100, blank=True)
    label = models.CharField(max_length=200, blank=True)
    n = models.BigIntegerField(default=0)
    micros = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["month", "product_id", "team_id", "tier", "figure", "value"],
                name="metrics_supportmonth_key",
            )
        ]
        indexes = [models.Index(fields=["month", "figure"], name="metrics_supportmonth_month")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.figure}={self.value}: {self.n}"


class CaseFigures(models.Model):
    """What one case adds to the ``SupportMonth`` tallies, as last computed: the list of
    ``[month, product, team, tier, figure, value, label, n, micros]``. Kept so that a
    case event replaces the case's old contribution by its new one (a difference, not a
    recount). Derived data, rewritten by ``rebuild_metrics``."""

    case = models.OneToOneField(
        "cases.Case", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    entries = models.JSONField(default=list)
    computed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"figures of case {self.case_id}"
