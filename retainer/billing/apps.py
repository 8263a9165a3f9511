"""The billing app. The web server loads the invoice PDF renderer when it starts."""

import os

from django.apps import AppConfig
from django.conf import settings


def serves_requests() -> bool:
    """True in a gunicorn worker (``retainer serve``, ``scripts/run.sh``): gunicorn's
    arbiter sets ``SERVER_SOFTWARE`` before it loads the application."""
    return os.environ.get("SERVER_SOFTWARE", "").startswith("gunicorn/")


class BillingConfig(AppConfig):
    name = "retainer.billing"
    label = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        # WeasyPrint's import and its first fonts take over a second; paid here once, in
        # gunicorn's master before it forks (``retainer serve`` preloads), not by the first
        # person who downloads an invoice; the workers share it (about 25 MiB). Commands,
        # tests and the job worker (which renders no PDF) skip it.
        if settings.RETAINER_PDF_WARM_UP and serves_requests():
            from retainer.billing import pdf

            pdf.warm_up()
