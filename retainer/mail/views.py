"""The console's Mail page: mailboxes, inbound messages (with the review queue) and the
mail outbox with delivery status; everyone's notification preferences and the
unsubscribe link. Decisions are POSTs that redirect back with a message;
a refusal is shown as a message (403 and 404 refusals raise)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from retainer.accounts.access import is_vendor_staff, request_user
from retainer.accounts.views import staff_required
from retainer.lib.errors import DomainError, NotPermitted, add_to_form, report
from retainer.mail import checks
from retainer.mail.access import (
    access_inbound,
    access_outbound,
    inbound_visible_to,
    outbound_visible_to,
)
from retainer.mail.actions.preferences import (
    do_set_preferences,
    do_unsubscribe,
    kinds_off,
    mail_language,
    read_unsubscribe_token,
)
from retainer.mail.actions.review import MAILBOX_FIELDS
from retainer.mail.choices import (
    CONTACT_KINDS,
    STAFF_KINDS,
    InboundStatus,
    OutboundKind,
    OutboundStatus,
)
from retainer.mail.forms import AttachForm, MailboxForm, OpenCaseForm, PreferencesForm, RejectForm
from retainer.mail.models import Mailbox
from retainer.mail.parsing import parse


def _may_view(request: HttpRequest) -> None:
    if not request_user(request).has_perm("mail.view_inboundmessage"):
        raise PermissionDenied


@require_safe
@staff_required
def inbound_list(request: HttpRequest) -> HttpResponse:
    """Mailboxes and inbound messages; ``?status=needs_review`` is the review queue."""
    _may_view(request)
    rows = inbound_visible_to(request_user(request))
    status, q = request.GET.get("status", ""), request.GET.get("q", "").strip()
    if status in InboundStatus.values:
        rows = rows.filter(status=status)
    if q:
        rows = rows.filter(Q(sender__icontains=q) | Q(subject__icontains=q))
    page = Paginator(rows.defer("raw"), 25).get_page(request.GET.get("page"))
    mailboxes = Mailbox.objects.select_related("product").annotate(messages=Count("inbound"))
    waiting = inbound_visible_to(request_user(request)).filter(status=InboundStatus.NEEDS_REVIEW)
    context = {
        "page": page,
        "status": status,
        "q": q,
        "statuses": InboundStatus.choices,
        "mailboxes": mailboxes,
        "waiting": waiting.count(),
    }
    return render(request, "mail/inbound_list.html", context)


@require_safe
@staff_required
def inbound_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _may_view(request)
    inbound = access_inbound(request_user(request), pk)
    parsed = parse(bytes(inbound.raw))
    context = {
        "inbound": inbound,
        "parsed": parsed,
        "reviewable": inbound.status in (InboundStatus.NEEDS_REVIEW, InboundStatus.REJECTED),
        "open_form": OpenCaseForm(initial={"contact_email": inbound.sender}),
        "attach_form": AttachForm(),
        "reject_form": RejectForm(),
        "answers": inbound.answers.all(),
    }
    return render(request, "mail/inbound_detail.html", context)


def _decide(
    request: HttpRequest, pk: int, form_class: type, decide: object, done: str
) -> HttpResponse:
    user = request_user(request)
    inbound = access_inbound(user, pk)
    form = form_class(request.POST)
    try:
        checks.authorize_review(user)  # before the form is read
        if not form.is_valid():
            raise ValidationError(form.errors.as_data())
        decide(user, inbound, **form.cleaned_data)  # type: ignore[operator]
    except (DomainError, ValidationError) as exc:
        report(request, exc)
    else:
        messages.success(request, done)
    return redirect("mail:inbound_detail", pk=pk)


@require_POST
@staff_required
def inbound_open_case(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, OpenCaseForm, checks.check_review_open_case, "Case opened.")


@require_POST
@staff_required
def inbound_attach(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(
        request,
        pk,
        AttachForm,
        checks.check_review_attach,
        "Added to the case as an internal note.",
    )


@require_POST
@staff_required
def inbound_reject(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, RejectForm, checks.check_review_reject, "Message rejected.")


@require_safe
@staff_required
def outbound_list(request: HttpRequest) -> HttpResponse:
    """The mail outbox: every e-mail with its delivery status."""
    _may_view(request)
    rows = outbound_visible_to(request_user(request))
    status = request.GET.get("status", "")
    if status in OutboundStatus.values:
        rows = rows.filter(status=status)
    page = Paginator(rows.defer("text", "html"), 25).get_page(request.GET.get("page"))
    context = {"page": page, "status": status, "statuses": OutboundStatus.choices}
    return render(request, "mail/outbound_list.html", context)


@require_POST
@staff_required
def outbound_retry(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    outbound = access_outbound(user, pk)
    try:
        checks.check_retry_outbound(user, outbound)
    except DomainError as exc:
        report(request, exc)
    else:
        messages.success(request, "Queued again.")
    return redirect("mail:outbound_list")


# --- Mailboxes -------------------------------------------------------------------------------


def _mailbox_form(request: HttpRequest, mailbox: Mailbox | None) -> HttpResponse:
    user = request_user(request)
    try:
        checks.authorize_mailboxes(user)
    except NotPermitted as exc:
        raise PermissionDenied(exc.detail) from exc
    initial = {} if mailbox is None else {name: getattr(mailbox, name) for name in MAILBOX_FIELDS}
    form = MailboxForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = checks.check_save_mailbox(user, mailbox, **form.cleaned_data)
        except (DomainError, ValidationError) as exc:
            add_to_form(form, exc)
        else:
            messages.success(request, f"Mailbox {saved.name} saved.")
            return redirect("mail:inbound_list")
    status = 400 if form.is_bound and form.errors else 200
    context = {"form": form, "mailbox": mailbox}
    return render(request, "mail/mailbox_form.html", context, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
def mailbox_new(request: HttpRequest) -> HttpResponse:
    """Set up a mailbox (managers and admins)."""
    return _mailbox_form(request, None)


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
def mailbox_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a mailbox's settings; deactivating stops its polling."""
    mailbox = Mailbox.objects.filter(pk=pk).first()
    if mailbox is None:
        raise Http404
    return _mailbox_form(request, mailbox)


# --- Notification preferences and unsubscribe -----------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    """The signed-in person's optional e-mails, ticked when they get them (their address's
    opt-outs). Staff are offered the staff notices, contacts the customer ones."""
    user = request_user(request)
    offered = STAFF_KINDS if is_vendor_staff(user) else CONTACT_KINDS
    off = kinds_off(user.email)
    form = PreferencesForm(
        request.POST or None,
        offered=offered,
        initial={
            "wanted": [k for k in offered if k not in off],
            "language": mail_language(user.email),
        },
    )
    if request.method == "POST":
        if form.is_valid():
            wanted = set(form.cleaned_data["wanted"])
            do_set_preferences(
                user.email,
                off=set(offered) - wanted,
                offered=offered,
                actor=user,
                via="page",
                language=form.cleaned_data["language"] or None,
            )
            messages.success(request, "Your e-mail preferences are saved.")
            return redirect("mail:preferences")
        return render(request, "mail/preferences.html", {"form": form}, status=400)
    return render(request, "mail/preferences.html", {"form": form})


@csrf_exempt  # a mail client's one-click POST (RFC 8058) has no session and no CSRF token
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, unsubscribe_token: str) -> HttpResponse:
    """An unsubscribe link: GET asks to confirm (a link scanner must not unsubscribe
    anyone); POST with ``List-Unsubscribe=One-Click`` turns the kind off for the address
    the signed token names. Needs no sign-in; a token not ours is 400."""
    try:
        address, kind = read_unsubscribe_token(unsubscribe_token)
    except DomainError as exc:
        return render(request, "mail/unsubscribe.html", {"error": exc.detail}, status=400)
    context: dict[str, object] = {
        "address": address,
        "kind": OutboundKind(kind).label,
        "token": unsubscribe_token,
    }
    if request.method == "POST":
        if request.POST.get("List-Unsubscribe") != "One-Click":
            context["error"] = "This request does not say what to do."
            return render(request, "mail/unsubscribe.html", context, status=400)
        do_unsubscribe(unsubscribe_token)
        context["done"] = True
    return render(request, "mail/unsubscribe.html", context)
