"""Demo imports: a contacts file from the CRM the vendor used before, checked in a dry
run, so the Imports page shows a report with the rows it would reject and why."""

from __future__ import annotations

from retainer.accounts.choices import Role
from retainer.accounts.models import User
from retainer.imports.actions import import_csv
from retainer.lib.demo import DemoContext

LEGACY_CONTACTS = (
    "organization,full_name,email,role\n"
    "Acme Corporation,Carla Espinosa,carla@acme.example,member\n"
    "Acme Corporation,Dan Ortega,dan.ortega@acme.example,admin\n"
    "Acme Corporation,Eve Lindqvist,eve@acme,member\n"
    "Umbrella Holdings,Frank Miller,frank@umbrella.example,member\n"
)


def build(ctx: DemoContext) -> None:
    admin = User.objects.filter(groups__name=Role.ADMIN).order_by("pk").first()
    run = import_csv(
        "contacts", LEGACY_CONTACTS.encode(), name="legacy-crm", dry_run=True, actor=admin
    )
    ctx.log(f"  a dry run of a legacy contacts file: {run.rejected_count} rows rejected")
