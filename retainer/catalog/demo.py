"""Demo catalog: three products with release histories, environments, scope policies and
the professional services offered for out-of-scope requests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from retainer.catalog import actions
from retainer.catalog.choices import EnvironmentKind, OfferingKind, PriceUnit
from retainer.lib.demo import DemoContext

ENVIRONMENTS = [
    ("Ubuntu", "22.04", EnvironmentKind.OPERATING_SYSTEM),
    ("Ubuntu", "24.04", EnvironmentKind.OPERATING_SYSTEM),
    ("Red Hat Enterprise Linux", "8", EnvironmentKind.OPERATING_SYSTEM),
    ("Red Hat Enterprise Linux", "9", EnvironmentKind.OPERATING_SYSTEM),
    ("Windows Server", "2019", EnvironmentKind.OPERATING_SYSTEM),
    ("Windows Server", "2022", EnvironmentKind.OPERATING_SYSTEM),
    ("PostgreSQL", "15", EnvironmentKind.DATABASE),
    ("PostgreSQL", "16", EnvironmentKind.DATABASE),
    ("Oracle Database", "19c", EnvironmentKind.DATABASE),
    ("AWS", "", EnvironmentKind.CLOUD),
    ("Azure", "", EnvironmentKind.CLOUD),
    ("Solaris", "11", EnvironmentKind.OPERATING_SYSTEM),
]

# name, code, list price, net price, versions (oldest first), months between releases,
# previous releases supported, supported environment names
PRODUCTS = [
    ("Ledgerline Server", "ledgerline", "50000", "42000",
     ["4.0", "4.1", "4.2", "5.0", "5.1", "5.2"], 7, 2,
     {"Ubuntu", "Red Hat Enterprise Linux", "PostgreSQL", "Oracle Database"}),
    ("Fieldkit SDK", "fieldkit", "12000", "9600",
     ["1.8", "2.0", "2.1", "2.2", "3.0"], 8, 1, set()),
    ("Atlas Gateway", "atlas", "30000", "27000",
     ["2023.1", "2023.2", "2024.1", "2024.2", "2025.1", "2025.2", "2026.1"], 6, None,
     {"Ubuntu", "Red Hat Enterprise Linux", "AWS", "Azure"}),
]  # fmt: skip

OFFERINGS = [
    (OfferingKind.BACKPORT, "Backport a fix to an older release", "2400", PriceUnit.FIXED,
     "We port a fix from the current release to the release you run."),
    (OfferingKind.CUSTOMIZATION, "Customization and integration work", "180", PriceUnit.PER_HOUR,
     "Changes for modified source code or third-party integrations."),
    (OfferingKind.PORTING, "Port to another platform", "9500", PriceUnit.FIXED,
     "Make the product run on an environment outside the supported list."),
    (OfferingKind.INSTALLATION, "Guided installation", "1500", PriceUnit.FIXED,
     "An engineer installs and configures the product with your team."),
    (OfferingKind.MIGRATION, "Upgrade and migration", "165", PriceUnit.PER_HOUR,
     "Move to a supported release with your data and configuration."),
    (OfferingKind.TRAINING, "Administrator training (2 days)", "3200", PriceUnit.FIXED,
     "Hands-on course; completing it qualifies a contact for trained-only plans."),
]  # fmt: skip


def _add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    return dt.date(day.year + month // 12, month % 12 + 1, min(day.day, 28))


def build(ctx: DemoContext) -> None:
    admin = ctx.objects.get("admin")
    environments = {}
    for name, version, kind in ENVIRONMENTS:
        environments[(name, version)] = actions.do_save_environment(
            None, actor=admin, name=name, version=version, kind=kind
        )
    products = {}
    for name, code, list_price, net_price, versions, gap, previous, env_names in PRODUCTS:
        product = actions.do_save_product(
            None,
            actor=admin,
            name=name,
            code=code,
            list_price=Decimal(list_price),
            net_price=Decimal(net_price),
            currency="EUR",
            description=f"{name}: demo product with a {len(versions)}-release history.",
        )
        first_ga = _add_months(ctx.today, -gap * (len(versions) - 1) - 2)
        releases = []
        for order, version in enumerate(versions, start=1):
            ga = _add_months(first_ga, gap * (order - 1))
            # Releases older than the newest three carry an end-of-support date three years out.
            eos = _add_months(ga, 36) if order <= len(versions) - 3 else None
            releases.append(
                actions.do_save_release(
                    None,
                    actor=admin,
                    product=product,
                    version=version,
                    order=order,
                    ga_date=ga,
                    end_of_support_date=eos,
                )
            )
        actions.do_save_scope_policy(
            None,
            actor=admin,
            product=product,
            supported_previous_releases=previous,
            honour_end_of_support_dates=True,
            modified_source_supported=code == "fieldkit",
            third_party_supported=False,
            supported_environments=[e for (n, _), e in environments.items() if n in env_names],
            notes="Security fixes are provided for every supported release.",
        )
        products[code] = (product, releases)
    for offering_kind, name, price, unit, description in OFFERINGS:
        actions.do_save_offering(
            None,
            actor=admin,
            kind=offering_kind,
            name=name,
            price=Decimal(price),
            currency="EUR",
            unit=unit,
            description=description,
        )
    actions.do_save_offering(
        None,
        actor=admin,
        kind=OfferingKind.BACKPORT,
        name="Ledgerline hotfix backport",
        product=products["ledgerline"][0],
        price=Decimal("3200"),
        currency="EUR",
        unit=PriceUnit.FIXED,
        description="Backport of a Ledgerline fix to a release out of support.",
    )
    ctx.objects.update(products=products, environments=environments)
    release_count = sum(len(releases) for _, releases in products.values())
    ctx.log(
        f"  {len(products)} products, {release_count} releases, "
        f"{len(environments)} environments, {len(OFFERINGS) + 1} service offerings"
    )
