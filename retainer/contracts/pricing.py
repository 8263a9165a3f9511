"""Contract prices from plan terms: pure functions over ``Decimal`` (never float).

Amounts keep the stored precision (four places); rounding to the currency's minor
unit happens once, at invoice-line level (``retainer.lib.money.round_amount``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from retainer.contracts.choices import PriceBasis
from retainer.contracts.terms import PlanTerms

HUNDRED = Decimal(100)
STORED = Decimal("0.0001")


@dataclass(frozen=True)
class ProductPrice:
    product_id: int
    list_price: Decimal
    net_price: Decimal
    currency: str


class CurrencyMismatch(ValueError):
    pass


def base_price(
    terms: PlanTerms, products: Iterable[ProductPrice], purchase_price: Decimal | None = None
) -> Decimal:
    """The term price before add-ons.

    With a percentage basis the percentage applies to ``purchase_price`` when given,
    otherwise to the sum of the covered products' list (or net) prices, which must be
    in the plan's currency.
    """
    if terms.price_basis == PriceBasis.FIXED:
        return terms.price_amount
    if terms.price_basis == PriceBasis.INCLUDED:
        return Decimal(0)
    if purchase_price is not None:
        total = purchase_price
    else:
        total = Decimal(0)
        for product in products:
            if product.currency != terms.currency:
                raise CurrencyMismatch(
                    f"Product {product.product_id} is priced in {product.currency}, "
                    f"the plan in {terms.currency}."
                )
            total += (
                product.list_price
                if terms.price_basis == PriceBasis.PERCENT_OF_LIST
                else product.net_price
            )
    return (total * terms.price_percent / HUNDRED).quantize(STORED)


def contract_price(
    terms: PlanTerms,
    products: Iterable[ProductPrice],
    *,
    purchase_price: Decimal | None = None,
    named_engineer: bool = False,
    extra_named_contacts: int = 0,
) -> Decimal:
    """Base price plus add-ons (named support engineer, extra named contacts)."""
    price = base_price(terms, products, purchase_price)
    if named_engineer:
        price += terms.named_engineer_price
    price += terms.extra_contact_price * extra_named_contacts
    return price.quantize(STORED)


def renewal_price(previous: Decimal, uplift_percent: Decimal) -> Decimal:
    """The next term's price: the previous one with the annual uplift applied."""
    return (previous * (HUNDRED + uplift_percent) / HUNDRED).quantize(STORED)


def overage_amount(quantity: int, rate: Decimal, *, unit_is_minutes: bool) -> Decimal:
    """What ``quantity`` of overage costs at ``rate`` (per hour for minutes, else per unit)."""
    if unit_is_minutes:
        return (rate * quantity / Decimal(60)).quantize(STORED)
    return (rate * quantity).quantize(STORED)
