"""Invoice PDFs with WeasyPrint, from a Django template, fetching nothing remote.

The renderer's ``url_fetcher`` resolves only local files: the billing app's static
directory and the vendor logo (``RETAINER_VENDOR_LOGO``). Every other URL (http, https,
data, ftp, any other file) is refused before anything is opened, so text in an invoice
line can never make the renderer reach the network or read local files.
"""

from __future__ import annotations

import logging
import mimetypes
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.template.loader import render_to_string
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from retainer.billing.models import Invoice
from retainer.billing.selectors import invoices_with_lines
from retainer.lib.money import format_money

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
    """The template's values. Amounts are formatted here, by the one money formatter
    (``lib.money.format_money``: the currency's own decimals, then its code), so the
    template prints text and never rounds."""
    logo = Path(settings.RETAINER_VENDOR_LOGO)
    currency = invoice.currency
    return {
        "invoice": invoice,
        "lines": [
            {
                "line": line,
                "unit_price": format_money(line.unit_price, currency),
                "amount": format_money(line.amount, currency),
            }
            for line in invoice.lines.all()
        ],
        "subtotal": format_money(invoice.subtotal, currency),
        "tax_amount": format_money(invoice.tax_amount, currency),
        "total": format_money(invoice.total, currency),
        "vendor_name": settings.RETAINER_VENDOR_NAME,
        "vendor_address": settings.RETAINER_VENDOR_ADDRESS,
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
