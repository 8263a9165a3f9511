"""Invoice PDFs with WeasyPrint, from a Django template, fetching nothing remote.

The renderer's ``url_fetcher`` resolves only local files: the billing app's static
directory and the vendor logo (``RETAINER_VENDOR_LOGO``). Every other URL (http, https,
data, ftp, any other file) is refused before anything is opened, so text in an invoice
line can never make the renderer reach the network or read local files.

Loading WeasyPrint and its fonts costs more than a second, once per process; web and job
workers pay it when they start (:func:`warm_up`), never on a customer's first download.
"""

from __future__ import annotations

import datetime as dt
import logging
import mimetypes
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.template.loader import render_to_string
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from retainer.accounts.models import Organization
from retainer.billing.choices import InvoiceStatus, ItemKind, LineUnit
from retainer.billing.models import BillingProfile, Invoice, InvoiceLine
from retainer.billing.selectors import case_references_by_line, invoices_with_lines
from retainer.lib.templatetags.retainer_format import money

logger = logging.getLogger(__name__)

# Per-document progress messages would flood the log at INFO.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

STATIC_DIR = Path(__file__).resolve().parent / "static" / "billing"


class FetchRefused(ValueError):
    pass


def allowed_roots() -> list[Path]:
    roots = [STATIC_DIR]
    logo = Path(settings.RETAINER_VENDOR_LOGO)
    if logo.is_file():
        roots.append(logo.resolve())
    return roots


class LocalOnlyFetcher(URLFetcher):
    """Serve ``file:`` URLs inside the allowed roots; refuse everything else."""

    def __init__(self, roots: list[Path] | None = None) -> None:
        super().__init__(allowed_protocols=["file"], allow_redirects=False)
        self.roots = [root.resolve() for root in (roots or allowed_roots())]
        self.refused: list[str] = []

    def resolve(self, url: str) -> Path:
        parts = urlsplit(url)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            raise FetchRefused(f"Refused to fetch {url!r}: only local assets are allowed.")
        path = Path(unquote(parts.path)).resolve()
        for root in self.roots:
            inside = path == root or (root.is_dir() and path.is_relative_to(root))
            if inside and path.is_file():
                return path
        raise FetchRefused(f"Refused to fetch {url!r}: not a local asset.")

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        try:
            path = self.resolve(url)
        except FetchRefused:
            self.refused.append(url)
            raise
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(
            path.as_uri(), path.read_bytes(), headers={"Content-Type": content_type}
        )


def invoice_context(invoice: Invoice) -> dict[str, Any]:
    """The template's values for a stored invoice (its lines prefetched): its customer's
    billing profile and the cases behind its lines are read here (two queries)."""
    profile = BillingProfile.objects.filter(organization_id=invoice.organization_id).first()
    return document_context(
        invoice,
        list(invoice.lines.all()),
        customer_address=profile.billing_address if profile else "",
        customer_tax_id=profile.tax_id if profile else "",
        references=case_references_by_line(invoice),
    )


def document_context(
    invoice: Invoice,
    lines: list[InvoiceLine],
    *,
    customer_address: str,
    customer_tax_id: str,
    references: dict[int, list[str]],
) -> dict[str, Any]:
    """The template's values; reads nothing. Amounts are formatted here, by the one money
    formatter (the ``money`` template filter: the currency's symbol or code and its own
    decimals), so the template prints text and never rounds."""
    logo = Path(settings.RETAINER_VENDOR_LOGO)
    currency = invoice.currency
    return {
        "invoice": invoice,
        "lines": [
            {
                "line": line,
                "cases": references.get(line.pk, []),
                "unit_price": money(line.unit_price, currency),
                "amount": money(line.amount, currency),
            }
            for line in lines
        ],
        "subtotal": money(invoice.subtotal, currency),
        "tax_amount": money(invoice.tax_amount, currency),
        "total": money(invoice.total, currency),
        "customer_address": customer_address,
        "customer_tax_id": customer_tax_id,
        "vendor_name": settings.RETAINER_VENDOR_NAME,
        "vendor_address": settings.RETAINER_VENDOR_ADDRESS,
        "bank": {
            "name": settings.RETAINER_VENDOR_BANK_NAME,
            "iban": settings.RETAINER_VENDOR_BANK_IBAN,
            "bic": settings.RETAINER_VENDOR_BANK_BIC,
        },
        "logo_url": logo.resolve().as_uri() if logo.is_file() else "",
        "css_url": (STATIC_DIR / "invoice.css").as_uri(),
    }


def html_to_pdf(html: str, fetcher: LocalOnlyFetcher | None = None) -> bytes:
    fetcher = fetcher or LocalOnlyFetcher()
    document = HTML(string=html, base_url=STATIC_DIR.as_uri() + "/", url_fetcher=fetcher)
    return document.write_pdf()


def render_invoice_html(invoice: Invoice) -> str:
    invoice = invoices_with_lines(Invoice.objects.filter(pk=invoice.pk)).get()
    return render_to_string("billing/invoice_pdf.html", invoice_context(invoice))


def render_invoice_pdf(invoice: Invoice, fetcher: LocalOnlyFetcher | None = None) -> bytes:
    """The invoice as PDF bytes (drafts are marked DRAFT)."""
    return html_to_pdf(render_invoice_html(invoice), fetcher)


_warm = threading.Event()
_warming = threading.Lock()


def _sample_html() -> str:
    """An invoice that exists nowhere (unsaved objects, no query), rendered through the
    real template: the template, the stylesheet, the logo and every font an invoice uses
    are loaded by rendering it."""
    day = dt.date(2000, 1, 1)
    invoice = Invoice(
        organization=Organization(name="Warm-up"),
        currency="EUR",
        status=InvoiceStatus.ISSUED,
        number="WARM-UP",
        period_start=day,
        period_end=day,
        issued_at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC),
        due_date=day,
        subtotal=Decimal(1),
        total=Decimal(1),
    )
    line = InvoiceLine(
        pk=1,
        position=1,
        kind=ItemKind.MANUAL,
        description="Warm-up",
        quantity=Decimal(1),
        unit=LineUnit.EACH,
        unit_price=Decimal(1),
        amount=Decimal(1),
    )
    context = document_context(
        invoice,
        [line],
        customer_address="Street 1",
        customer_tax_id="X",
        references={1: ["RT-1"]},
    )
    return render_to_string("billing/invoice_pdf.html", context)


def warm_up() -> float:
    """Load the renderer, the template and the fonts by rendering a sample invoice once
    per process; returns the seconds it took (0 when it was done already). Thread-safe."""
    with _warming:
        if _warm.is_set():
            return 0.0
        started = time.perf_counter()
        html_to_pdf(_sample_html())
        _warm.set()
        seconds = time.perf_counter() - started
    logger.info("Invoice PDF renderer ready in %.2f s", seconds)
    return seconds
