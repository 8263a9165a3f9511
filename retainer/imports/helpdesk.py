"""Import from a django-helpdesk database: queues, users, tickets with their follow-ups
and attachments, and knowledge-base items (docs/imports.md has the mapping).

Idempotent: every imported row is recorded in ``ImportedRecord`` in the transaction that
creates its object, and rows already recorded are skipped, so a second run creates
nothing and a killed run, started again, imports exactly what is missing. Tickets go in
batches, one transaction each. Closed and resolved tickets are history: stored as they
were, in bulk, without a decision and without consuming anything. Open tickets go
through intake like a new case, so their entitlement decision is recorded (and an
incident consumed where the contract says so) under today's contracts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone

from retainer.accounts import actions as accounts
from retainer.accounts.choices import Role
from retainer.accounts.models import Contact, Organization, OrganizationDomain, User
from retainer.cases.choices import Priority
from retainer.cases.models import Case, CaseAttachment, CaseMessage
from retainer.catalog import actions as catalog
from retainer.catalog.models import Product
from retainer.imports.models import ImportedRecord, ImportRun
from retainer.kb import actions as kb
from retainer.kb.choices import Visibility
from retainer.kb.models import Category
from retainer.lib.errors import InvalidInput
from retainer.lib.uploads import UploadRejected, store_upload

from . import writing
from .report import Report
from .source import Source

REQUIRED_TABLES = {
    "auth_user",
    "helpdesk_queue",
    "helpdesk_ticket",
    "helpdesk_followup",
    "helpdesk_followupattachment",
    "helpdesk_kbcategory",
    "helpdesk_kbitem",
}
#: django-helpdesk's ticket states.
OPEN, REOPENED, RESOLVED, CLOSED, DUPLICATE = 1, 2, 3, 4, 5
SEVERITY = {1: 1, 2: 2, 3: 3, 4: 4, 5: 4}
PRIORITY = {
    1: Priority.URGENT,
    2: Priority.HIGH,
    3: Priority.NORMAL,
    4: Priority.LOW,
    5: Priority.LOW,
}
BATCH = 500


class _DryRun(Exception):
    """Rolls a dry run's transaction back once it has done everything."""


def _aware(value: Any) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if timezone.is_naive(value):
        value = value.replace(tzinfo=dt.UTC)
    return value


class HelpdeskImport:
    """One import run from a django-helpdesk database."""

    def __init__(
        self,
        source: Source,
        *,
        run: ImportRun,
        media: Path | None = None,
        progress: Callable[[ImportRun], None] | None = None,
    ) -> None:
        check_source(source)
        self.source, self.run, self.media, self.progress = source, run, media, progress
        self.name = run.source
        self.report = Report()
        self.staff: dict[int, User] = {}
        self.helpdesk_staff: set[int] = set()
        self.products: dict[int, Product] = {}
        self.contacts: dict[str, Contact] = {}
        self.fallback_author: User | None = None

    # --- the run ----------------------------------------------------------------------

    def execute(self) -> Report:
        """Import everything; a dry run does all of it in one transaction rolled back."""
        run = self.run
        run.total = self.source.count("SELECT count(*) FROM helpdesk_ticket") + self.source.count(
            "SELECT count(*) FROM helpdesk_kbitem"
        )
        ImportRun.objects.filter(pk=run.pk).update(total=run.total)
        if run.dry_run:
            try:
                with transaction.atomic():
                    self._everything()
                    raise _DryRun
            except _DryRun:
                pass
        else:
            self._everything()
        return self.report

    def _everything(self) -> None:
        with transaction.atomic():
            self._users()
            self._queues()
        first = 0
        while True:
            tickets = list(
                self.source.rows(
                    "SELECT id, title, queue_id, created, modified, submitter_email, "
                    "assigned_to_id, status, description, priority FROM helpdesk_ticket "
                    "WHERE id > %s ORDER BY id LIMIT %s",
                    (first, BATCH),
                )
            )
            if not tickets:
                break
            with transaction.atomic():
                self._tickets(tickets)
            first = tickets[-1]["id"]
            self._advance(len(tickets))
        with transaction.atomic():
            self._kb()

    def _advance(self, done: int) -> None:
        run = self.run
        run.done += done
        run.created = dict(self.report.created)
        if not run.dry_run:
            ImportRun.objects.filter(pk=run.pk).update(done=run.done, created=run.created)
        if self.progress:
            self.progress(run)

    def _known(self, kind: str, ids: Iterable[Any]) -> dict[str, int]:
        return dict(
            ImportedRecord.objects.filter(
                source=self.name, kind=kind, external_id__in=[str(i) for i in ids]
            ).values_list("external_id", "object_id")
        )

    def _remember(self, kind: str, pairs: Iterable[tuple[Any, int]]) -> None:
        rows = [
            ImportedRecord(
                source=self.name, kind=kind, external_id=str(ext), object_id=pk, run=self.run
            )
            for ext, pk in pairs
        ]
        if rows:
            ImportedRecord.objects.bulk_create(rows)
            self.report.created[kind] += len(rows)

    # --- users and queues -----------------------------------------------------------------

    def _users(self) -> None:
        """Helpdesk staff become agents (found again by e-mail address if they exist);
        they sign in with a sign-in link or after an admin sets a password."""
        users = list(
            self.source.rows(
                "SELECT id, email, first_name, last_name, username, is_staff FROM auth_user "
                "ORDER BY id"
            )
        )
        known = self._known("user", (u["id"] for u in users))
        wanted = [(u["email"] or "").strip().lower() for u in users]
        by_email: dict[str, User] = {
            user.email.lower(): user
            for user in User.objects.annotate(email_lower=Lower("email")).filter(
                email_lower__in=wanted
            )
        }
        created = []
        for row in users:
            if not row["is_staff"]:
                continue  # customers: matched as contacts by their e-mail address
            self.helpdesk_staff.add(row["id"])
            if str(row["id"]) in known:
                self.staff[row["id"]] = User.objects.get(pk=known[str(row["id"])])
                continue
            email = (row["email"] or "").strip().lower()
            if not _valid_email(email):
                self.report.reject(
                    f"auth_user {row['id']}", "email", "A staff user without a valid e-mail "
                    "address: their messages are attributed to the import's own author.",
                )  # fmt: skip
                continue
            user: User | None = by_email.get(email)
            if user is None:
                name = f"{row['first_name'] or ''} {row['last_name'] or ''}".strip()
                user = accounts.do_create_staff_user(
                    email=email, full_name=name or row["username"], roles=[Role.AGENT], actor=None
                )
            self.staff[row["id"]] = user
            created.append((row["id"], user.pk))
        self._remember("user", created)

    def _author(self) -> User:
        """Who wrote what nobody known wrote: one staff user per source, inactive and
        without a password, so nobody signs in as it."""
        if self.fallback_author is None:
            author, created = User.objects.get_or_create(
                email=f"import-{self.name}@imported.invalid".lower(),
                defaults={
                    "full_name": f"Imported from {self.name}",
                    "is_staff": True,
                    "is_active": False,
                },
            )
            if created:
                author.set_unusable_password()
                author.save(update_fields=["password"])
            self.fallback_author = author
        return self.fallback_author

    def _queues(self) -> None:
        """Each queue becomes a product (found again by its code, the queue's slug)."""
        queues = list(self.source.rows("SELECT id, title, slug FROM helpdesk_queue ORDER BY id"))
        known = self._known("queue", (q["id"] for q in queues))
        existing = {p.code: p for p in Product.objects.filter(code__in=[q["slug"] for q in queues])}
        created = []
        for row in queues:
            if str(row["id"]) in known:
                self.products[row["id"]] = Product.objects.get(pk=known[str(row["id"])])
                continue
            product = existing.get(row["slug"]) or catalog.do_save_product(
                None, actor=None, name=row["title"][:100], code=row["slug"][:30],
                currency=settings.RETAINER_DEFAULT_CURRENCY,
            )  # fmt: skip
            self.products[row["id"]] = product
            created.append((row["id"], product.pk))
        self._remember("queue", created)

    # --- contacts -------------------------------------------------------------------------

    def _contact(self, email: str) -> Contact:
        """The contact with this address; else a new one in the organization that owns the
        address's domain; else a new organization named after the domain. Imported
        contacts get a portal login without a password (a sign-in link sets one)."""
        if email in self.contacts:
            return self.contacts[email]
        contact = Contact.objects.filter(email__iexact=email).select_related("user").first()
        if contact is None:
            domain = email.rsplit("@", 1)[1]
            owner = OrganizationDomain.objects.filter(domain=domain).first()
            # An organization the import makes does not claim the domain: two customers
            # on a mail provider's domain are not colleagues. Staff merge them later.
            organization = (
                Organization.objects.get(pk=owner.organization_id)
                if owner
                else Organization.objects.filter(name=domain).first()
                or accounts.do_create_organization(name=domain, actor=None)
            )
            if owner is None and organization.name == domain and not organization.contacts.exists():
                self.report.created["organization"] += 1
            contact = accounts.do_create_contact(
                organization=organization,
                full_name=email.split("@", 1)[0],
                email=email,
                portal_password="",
                actor=None,
            )
            self.report.created["contact"] += 1
        self.contacts[email] = contact
        return contact

    # --- tickets ---------------------------------------------------------------------------

    def _tickets(self, tickets: list[dict[str, Any]]) -> None:
        known = self._known("ticket", (t["id"] for t in tickets))
        cases = Case.objects.select_related("contact__user").in_bulk(known.values())
        case_of = {int(ext): cases[pk] for ext, pk in known.items() if pk in cases}
        history: list[tuple[int, Case]] = []
        opened: list[tuple[int, int]] = []
        for row in tickets:
            if row["id"] in case_of:
                continue
            label = f"helpdesk_ticket {row['id']}"
            email = (row["submitter_email"] or "").strip().lower()
            if not _valid_email(email):
                self.report.reject(label, "submitter_email", f"{email!r} is not an e-mail address.")
                continue
            product = self.products.get(row["queue_id"])
            if product is None:
                self.report.reject(label, "queue_id", f"There is no queue {row['queue_id']}.")
                continue
            contact = self._contact(email)
            subject = (row["title"] or "").strip() or f"Ticket {row['id']}"
            description = (row["description"] or "").strip() or subject
            severity = SEVERITY.get(row["priority"], 3)
            priority = PRIORITY.get(row["priority"], Priority.NORMAL)
            assignee = self.staff.get(row["assigned_to_id"])
            created, modified = _aware(row["created"]), _aware(row["modified"])
            fields: dict[str, Any] = {
                "contact": contact, "product": product, "subject": subject,
                "description": description, "severity": severity, "priority": priority,
                "assignee": assignee, "created_at": created,
            }  # fmt: skip
            if row["status"] in (OPEN, REOPENED):
                try:
                    case = writing.open_case(**fields)
                except ValidationError as exc:
                    for column, messages in exc.message_dict.items():
                        self.report.reject(label, column, " ".join(messages))
                    continue
                opened.append((row["id"], case.pk))
                case_of[row["id"]] = case
                continue
            closed = row["status"] in (CLOSED, DUPLICATE)
            case = writing.history_case(**fields, finished_at=modified, closed=closed)
            history.append((row["id"], case))
        Case.objects.bulk_create([case for _, case in history])
        for ticket_id, case in history:
            case_of[ticket_id] = case
        self._remember("ticket", [*opened, *((tid, case.pk) for tid, case in history)])
        if history or opened:
            self.report.created["case"] += len(history) + len(opened)
        self._followups(tickets, case_of, history={case.pk for _, case in history})

    def _followups(
        self, tickets: list[dict[str, Any]], case_of: dict[int, Case], *, history: set[int]
    ) -> None:
        """Public follow-ups become replies, private ones internal notes; a follow-up by
        a helpdesk customer account or by nobody is the requester's. Staff replies set
        the first response time of the cases imported as history."""
        low, high = int(tickets[0]["id"]), int(tickets[-1]["id"])
        rows = list(
            self.source.rows(
                "SELECT id, ticket_id, date, title, comment, public, user_id "
                "FROM helpdesk_followup WHERE ticket_id BETWEEN %s AND %s ORDER BY id",
                (low, high),
            )
        )
        known = self._known("followup", (r["id"] for r in rows))
        messages: list[tuple[int, CaseMessage]] = []
        first_response: dict[int, dt.datetime] = {}
        for row in rows:
            case = case_of.get(row["ticket_id"])
            if case is None or str(row["id"]) in known:
                continue
            body = (row["comment"] or "").strip() or (row["title"] or "").strip()
            if not body:
                continue  # a status change without words: the case's status says it
            staff = self.staff.get(row["user_id"])
            if staff is None and row["user_id"] in self.helpdesk_staff:
                staff = self._author()  # a staff user the import could not map
            customer = staff is None and case.contact.user is not None
            author = staff or case.contact.user or self._author()
            at = _aware(row["date"])
            public = bool(row["public"]) or customer
            messages.append(
                (
                    row["id"],
                    CaseMessage(
                        case=case,
                        author=author,
                        body=body,
                        is_internal=not public,
                        by_customer=customer,
                        created_at=at,
                    ),
                )
            )
            if staff is not None and public and case.pk in history:
                first_response[case.pk] = min(at, first_response.get(case.pk, at))
        CaseMessage.objects.bulk_create([message for _, message in messages])
        self._remember("followup", ((fid, m.pk) for fid, m in messages))
        if messages:
            self.report.created["message"] += len(messages)
        for case_pk, at in first_response.items():
            Case.objects.filter(pk=case_pk, first_response_at__isnull=True).update(
                first_response_at=at
            )
        self._attachments(dict(messages))

    def _attachments(self, message_of: dict[int, CaseMessage]) -> None:
        if not message_of:
            return
        ids = list(message_of)
        marks = ", ".join(["%s"] * len(ids))  # one placeholder per id
        sql = (
            "SELECT id, file, filename, mime_type, size, followup_id "  # noqa: S608
            f"FROM helpdesk_followupattachment WHERE followup_id IN ({marks}) ORDER BY id"
        )
        rows = list(self.source.rows(sql, ids))
        attachments = []
        for row in rows:
            label = f"helpdesk_followupattachment {row['id']}"
            message = message_of[row["followup_id"]]
            if self.media is None:
                self.report.reject(label, "file", "No media folder was given (--media).")
                continue
            path = (self.media / str(row["file"])).resolve()
            if not path.is_relative_to(self.media.resolve()) or not path.is_file():
                self.report.reject(
                    label, "file", f"The file {row['file']} is not in the media folder."
                )
                continue
            if self.run.dry_run:
                self.report.created["attachment"] += 1
                continue
            try:
                with path.open("rb") as handle:
                    stored = store_upload(
                        handle,
                        original_name=row["filename"] or path.name,
                        max_bytes=settings.RETAINER_ATTACHMENT_MAX_BYTES,
                    )
            except UploadRejected as exc:
                self.report.reject(label, "file", exc.detail)
                continue
            attachment = CaseAttachment(
                case_id=message.case_id,
                message=message,
                storage_name=stored.storage_name,
                display_name=stored.safe_name,
                content_type=stored.content_type,
                size=stored.size,
                sha256=stored.sha256,
                is_internal=message.is_internal,
                uploaded_by_id=message.author_id,
                created_at=message.created_at,
            )
            attachments.append((row["id"], attachment))
        CaseAttachment.objects.bulk_create([a for _, a in attachments])
        self._remember("attachment", ((aid, a.pk) for aid, a in attachments))

    # --- knowledge base ---------------------------------------------------------------------

    def _kb(self) -> None:
        """Categories by name; each enabled item becomes a published article (public when
        its category was public, else for signed-in customers), a disabled one a draft."""
        categories = {
            row["id"]: row
            for row in self.source.rows("SELECT id, name, title, public FROM helpdesk_kbcategory")
        }
        items = list(
            self.source.rows(
                "SELECT id, category_id, title, question, answer, enabled FROM helpdesk_kbitem "
                "ORDER BY id"
            )
        )
        known = self._known("kbitem", (i["id"] for i in items))
        created = []
        for row in items:
            if str(row["id"]) in known:
                continue
            label = f"helpdesk_kbitem {row['id']}"
            source_category = categories.get(row["category_id"])
            category = None
            if source_category is not None:
                name = (source_category["title"] or source_category["name"])[:80]
                category = Category.objects.get_or_create(name=name)[0]
            values = {
                "title": (row["title"] or "").strip(),
                "summary": (row["question"] or "").strip()[:300],
                "body": f"{(row['question'] or '').strip()}\n\n{(row['answer'] or '').strip()}",
                "category": category,
                "visibility": (
                    Visibility.PUBLIC
                    if source_category and source_category["public"]
                    else Visibility.CUSTOMERS
                ),
            }
            try:
                with transaction.atomic():
                    article = kb.do_create_article(values=values, author=self._author())
                    if row["enabled"]:
                        kb.do_publish_article(article, actor=self._author())
            except ValidationError as exc:
                for column, messages in exc.message_dict.items():
                    self.report.reject(label, column, " ".join(messages))
                continue
            created.append((row["id"], article.pk))
        self._remember("kbitem", created)
        self._advance(len(items))


def check_source(source: Source) -> None:
    """Refuse a database that is not django-helpdesk's (``InvalidInput``)."""
    missing = REQUIRED_TABLES - source.tables()
    if missing:
        raise InvalidInput(
            "not_a_helpdesk_database",
            f"This is not a django-helpdesk database: no table {', '.join(sorted(missing))}.",
        )


def _valid_email(value: str) -> bool:
    try:
        validate_email(value)
    except ValidationError:
        return False
    return True
