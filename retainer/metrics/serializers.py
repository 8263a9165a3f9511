"""Output serializers of the metrics API. Amounts and rates are strings (``Decimal``);
rates are percentages to 0.1, ``null`` when there is nothing to divide by."""

from __future__ import annotations

from rest_framework import serializers


def money(**kwargs: object) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=20, decimal_places=2, **kwargs)  # type: ignore[arg-type]


def number(**kwargs: object) -> serializers.IntegerField:
    """A count in a response (never read from a request)."""
    return serializers.IntegerField(read_only=True, **kwargs)  # type: ignore[arg-type]


def rate() -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=8, decimal_places=1, allow_null=True)


class PeriodOut(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()
    as_of = serializers.DateField(
        help_text="The last day with figures (today while the period runs)."
    )


class MovementsOut(serializers.Serializer):
    new = money()
    expansion = money()
    reactivation = money()
    contraction = money(help_text="Negative.")
    churn = money(help_text="Negative.")


class MonthOut(MovementsOut):
    month = serializers.CharField(help_text="YYYY-MM")
    mrr_start = money()
    mrr_end = money()
    arr_end = money()


class RevenueOut(serializers.Serializer):
    period = PeriodOut()
    currency = serializers.CharField()
    currencies = serializers.ListField(child=serializers.CharField())
    mrr_start = money()
    movements = MovementsOut()
    added = money()
    lost = money()
    mrr_end = money()
    arr_end = money()
    recurring_revenue_rate = rate()
    net_revenue_retention = rate()
    gross_revenue_retention = rate()
    customer_retention = rate()
    customers_at_start = number()
    customers_retained = number()
    renewals_due = number()
    renewals_renewed = number()
    renewal_rate = rate()
    overage_revenue = money()
    payg_revenue = money()
    months = MonthOut(many=True)


class DurationOut(serializers.Serializer):
    count = number()
    median_hours = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    average_hours = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)


class SlaOut(serializers.Serializer):
    kind = serializers.CharField()
    met = number()
    missed = number()
    attainment = rate()


class BacklogOut(serializers.Serializer):
    name = serializers.CharField()
    from_days = number()
    to_days = number(allow_null=True)
    open_cases = number()


class ShareOut(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    count = number()
    share = rate()


class CsatMonthOut(serializers.Serializer):
    month = serializers.CharField(help_text="YYYY-MM")
    good = number()
    neutral = number()
    bad = number()
    satisfied = rate()


class DemandOut(serializers.Serializer):
    root_cause = ShareOut(many=True)
    category = ShareOut(many=True)
    product = ShareOut(many=True)
    release = ShareOut(many=True)
    channel = ShareOut(many=True)


class SupportOut(serializers.Serializer):
    period = PeriodOut()
    cases_opened = number()
    cases_resolved = number()
    cases_reopened = number()
    reopen_rate = rate()
    first_response = DurationOut()
    resolution = DurationOut()
    sla = SlaOut(many=True)
    backlog = BacklogOut(many=True)
    demand = DemandOut()
    csat_satisfied = rate()
    csat_months = CsatMonthOut(many=True)
    logged_minutes = number()
    billable_minutes = number()
    utilization = rate()
    cost_per_incident = money(allow_null=True)
    cost_currency = serializers.CharField()


class BalanceTrendOut(serializers.Serializer):
    contract = number()
    name = serializers.CharField(read_only=True)
    unit = serializers.CharField(read_only=True, help_text="hours (in minutes) or incidents")
    balances = serializers.ListField(
        child=serializers.IntegerField(allow_null=True),
        read_only=True,
        help_text="The balance at the end of each of `months` (today for the last).",
    )


class ProfitOut(serializers.Serializer):
    currency = serializers.CharField(read_only=True)
    revenue = money(read_only=True)
    cost = money(read_only=True)
    profit = money(read_only=True)
    margin = serializers.DecimalField(
        max_digits=8, decimal_places=1, allow_null=True, read_only=True
    )


class CsatTotalOut(serializers.Serializer):
    good = number()
    neutral = number()
    bad = number()
    satisfied = serializers.DecimalField(
        max_digits=8, decimal_places=1, allow_null=True, read_only=True
    )


class HealthOut(serializers.Serializer):
    organization = number()
    as_of = serializers.DateField(read_only=True)
    months = serializers.ListField(
        child=serializers.CharField(), read_only=True, help_text="YYYY-MM"
    )
    balances = BalanceTrendOut(many=True, read_only=True)
    cases_opened = serializers.ListField(
        child=serializers.IntegerField(), read_only=True, help_text="Per month of `months`."
    )
    open_cases = number()
    csat = CsatTotalOut(read_only=True, help_text="The last twelve months.")
    next_renewal = serializers.DateField(allow_null=True, read_only=True)
    days_to_renewal = serializers.IntegerField(allow_null=True, read_only=True)
    logged_minutes = number(help_text="The last twelve months.")
    cost_per_hour = money(read_only=True)
    cost_currency = serializers.CharField(read_only=True)
    profitability = ProfitOut(many=True, read_only=True, help_text="The last twelve months.")
