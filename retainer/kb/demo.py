"""Demo knowledge base: categories and about a hundred articles across the demo
products — how-tos, troubleshooting guides and known issues — written from templates,
some public, some for signed-in customers, some per plan tier, some internal, a few drafts
and an archived one. Everything goes through the kb actions (revisions and events)."""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from typing import Any

from django.utils import timezone

from retainer.accounts.choices import Role
from retainer.accounts.models import Contact
from retainer.cases.models import Case
from retainer.kb import actions, checks
from retainer.kb.choices import SuggestionKind, Visibility
from retainer.kb.models import Article
from retainer.lib.demo import DemoContext

CATEGORIES = [
    ("Getting started", "Installing, first configuration and upgrades."),
    ("How-to", "Step-by-step guides for everyday tasks."),
    ("Troubleshooting", "Symptoms, causes and fixes."),
    ("Known issues", "Problems we know about, with workarounds."),
    ("Security", "Certificates, passwords, access and hardening."),
]

# category, visibility, tiers, title, summary, body — "{p}" is the product name, "{v}"
# its newest release, "{c}" its code.
TOPICS: list[tuple[str, str, str, str, str, str]] = [
    (
        "Getting started",
        "public",
        "",
        "Install {p} {v} on a new server",
        "System requirements and the installation steps for a fresh {p} server.",
        "## Before you start\n\n- 4 CPU cores and 8 GB of memory\n- A supported operating system\n"
        "- A service account without administrator rights\n\n## Steps\n\n1. Download the {v} "
        "package from the customer download area.\n2. Run `{c}-install --prefix /opt/{c}`.\n"
        "3. Start the service with `systemctl start {c}`.\n4. Open the web console and sign in "
        "with the initial admin password printed by the installer.",
    ),
    (
        "Getting started",
        "public",
        "",
        "Upgrade {p} to {v}",
        "How to upgrade an existing installation without losing configuration.",
        "Back up the configuration directory and the database first.\n\n1. Stop the service.\n"
        "2. Install the {v} package over the existing one.\n3. Run `{c}-migrate` to upgrade "
        "the database schema.\n4. Start the service and check the version on the About page.\n\n"
        "Upgrades skip no more than two releases at a time.",
    ),
    (
        "How-to",
        "public",
        "",
        "Reset a forgotten admin password in {p}",
        "Regain access when nobody remembers the administrator password.",
        "Stop the service, then run `{c}-admin reset-password admin`. The command prints a "
        "one-time password; sign in with it and choose a new password immediately. The reset "
        "is written to the audit log.",
    ),
    (
        "How-to",
        "customers",
        "",
        "Rotate the licence key of {p}",
        "Replace an expiring licence key without downtime.",
        "Download the new licence file from the customer portal. In the web console open "
        "*Settings → Licence*, upload the file and press *Apply*. The running service picks up "
        "the new key within a minute; no restart is needed.",
    ),
    (
        "How-to",
        "customers",
        "",
        "Configure single sign-on (SAML) for {p}",
        "Let your users sign in with your identity provider.",
        "Register {p} as a service provider in your identity provider with the metadata URL "
        "`https://<host>/saml/metadata`. Then paste the identity provider's metadata into "
        "*Settings → Authentication*. Map the `email` attribute; group mapping is optional.",
    ),
    (
        "How-to",
        "customers",
        "",
        "Schedule and verify backups of {p}",
        "Nightly backups, retention and how to test a restore.",
        "Set the backup window in *Settings → Backups*. Keep at least seven nightly copies. "
        "Once a month restore the latest backup to a test server with `{c}-restore` and compare "
        "record counts: a backup you have not restored is not a backup.",
    ),
    (
        "How-to",
        "plans",
        "gold,platinum",
        "Tune {p} for large data volumes",
        "Memory, connection pool and batch sizes for installations over one million records.",
        "Raise the heap to half the server's memory, set the connection pool to twice the number "
        "of CPU cores, and increase `batch.size` to 5000. Rebuild the indexes after the first "
        "bulk import. Our engineers can review your settings as part of your plan.",
    ),
    (
        "How-to",
        "plans",
        "platinum",
        "Set up high availability for {p}",
        "Active/passive failover with a shared database.",
        "Install two nodes with the same configuration and point both at the same database. "
        "Put a load balancer with health checks on `/healthz` in front of them. Only the active "
        "node runs scheduled jobs; failover takes under a minute.",
    ),
    (
        "Troubleshooting",
        "public",
        "",
        "{p} does not start after a reboot",
        "The service fails to start and the log mentions the port or the lock file.",
        "Check the log in `/var/log/{c}/server.log`. If it says *address already in use*, "
        "another process holds the port: find it with `ss -ltnp`. If it mentions a stale lock "
        "file, remove `/var/run/{c}.lock` and start the service again.",
    ),
    (
        "Troubleshooting",
        "public",
        "",
        "Slow searches in {p}",
        "Searches take several seconds on large installations.",
        "Slow searches usually mean the search index is out of date. Run `{c}-admin reindex` "
        "during a quiet hour. If searches stay slow, check that the database has enough memory "
        "for its indexes and that the disk is not saturated.",
    ),
    (
        "Troubleshooting",
        "customers",
        "",
        "E-mail notifications from {p} are not delivered",
        "Users do not receive notification e-mails.",
        "Send a test message from *Settings → E-mail*. An authentication error means the SMTP "
        "password changed; a timeout means a firewall blocks port 587. Check the spam folder: "
        "add SPF and DKIM records for the sending domain.",
    ),
    (
        "Troubleshooting",
        "customers",
        "",
        "Import fails with an encoding error in {p}",
        "CSV imports stop with 'invalid byte sequence'.",
        "The file is not UTF-8. Export it again as *CSV UTF-8* from your spreadsheet, or "
        "convert it with `iconv -f latin1 -t utf-8`. Imports report the first bad line number.",
    ),
    (
        "Troubleshooting",
        "plans",
        "silver,gold,platinum",
        "Read the {p} diagnostic bundle",
        "What each file in the diagnostic bundle tells you before you open a case.",
        "Create the bundle with `{c}-admin diagnostics`. `config.txt` lists effective settings, "
        "`threads.txt` shows what the server was doing, `slow.log` the slowest queries. Attach "
        "the bundle when you open a case: it saves a round trip.",
    ),
    (
        "Known issues",
        "public",
        "",
        "Known issue: {p} {v} shows the wrong time zone in reports",
        "Report timestamps appear in UTC instead of the user's time zone.",
        "Reports generated by the scheduler use the server's time zone. Workaround: set each "
        "report's time zone explicitly in its settings. Fixed in the next maintenance release.",
    ),
    (
        "Known issues",
        "internal",
        "",
        "Internal: {p} memory leak under heavy export load",
        "Engineering notes on the export leak; not for customers yet.",
        "Exports above 2 GB keep buffers alive until the worker restarts. Advise customers to "
        "schedule large exports at night and restart workers weekly until the fix ships. "
        "Defect linked in the tracker.",
    ),
    (
        "Known issues",
        "internal",
        "",
        "Internal: escalation path for {p} data corruption",
        "Who to call and what to collect when a customer reports corrupted records.",
        "Collect the diagnostic bundle and the database logs, then page the on-call engineer of "
        "the {p} team. Never run repair scripts on customer data without written approval.",
    ),
    (
        "Troubleshooting",
        "public",
        "",
        "Users are signed out of {p} every few minutes",
        "Sessions end early behind a load balancer or proxy.",
        "Sessions are tied to the node that created them. Turn on sticky sessions in the load "
        "balancer, or set `session.store = database` so every node shares them. Also check that "
        "the server clocks are synchronised with NTP.",
    ),
    (
        "How-to",
        "customers",
        "",
        "Export the audit log of {p}",
        "Get a CSV of who changed what, for an audit or an investigation.",
        "Open *Settings → Audit log*, choose the period and press *Export CSV*. For longer "
        "periods run `{c}-admin audit-export --since 2024-01-01 > audit.csv` on the server.",
    ),
    (
        "Security",
        "public",
        "",
        "Renew the TLS certificate of {p}",
        "Replace an expiring certificate on the web console.",
        "Place the new certificate and key in `/etc/{c}/tls/`, check the chain with "
        "`openssl verify`, then reload the service with `systemctl reload {c}`. Browsers show "
        "the new certificate immediately.",
    ),
    (
        "Security",
        "customers",
        "",
        "Harden a {p} installation",
        "Checklist of settings to review before going live.",
        "- Disable the default admin account after creating named administrators\n"
        "- Enforce multi-factor sign-in\n- Restrict the console to your network\n"
        "- Turn on the audit log and ship it to your log store\n- Keep to a supported release",
    ),
]

GENERAL = [
    (
        "Getting started",
        "public",
        "",
        "How support works",
        "Opening a case, response times and what your plan covers.",
        "Open a case in the portal or by e-mail. Each case gets a reference and a response "
        "target from your plan. Check *My support* for your balance and coverage, and the "
        "Scope of support page for supported releases.",
    ),
    (
        "Getting started",
        "customers",
        "",
        "Add colleagues to your support account",
        "Let more people in your organization open and follow cases.",
        "Your customer admin adds contacts in the portal. Contacts whose e-mail address uses "
        "your organization's domain can also sign in with an e-mailed link.",
    ),
    (
        "How-to",
        "plans",
        "gold,platinum",
        "Book a health check with your named engineer",
        "Gold and Platinum plans include a yearly health check.",
        "Open a case of type *Request* titled *Health check* and suggest two dates. Your named "
        "engineer reviews configuration, logs and growth, and sends a written report.",
    ),
]


def _articles(products: list[tuple[Any, list[Any]]]) -> list[tuple[str, str, str, Any, dict]]:
    rows = []
    for product, releases in products:
        newest = releases[-1].version if releases else ""
        names = {"p": product.name, "v": newest, "c": product.code}
        for category, visibility, tiers, title, summary, body in TOPICS:
            rows.append((category, visibility, tiers, product, {
                "title": title.format(**names), "summary": summary.format(**names),
                "body": body.format(**names),
                "release_from": releases[0] if releases else None,
                "release_to": releases[-1] if releases else None,
            }))  # fmt: skip
    for category, visibility, tiers, title, summary, body in GENERAL:
        rows.append((category, visibility, tiers, None, {"title": title, "summary": summary,
                                                         "body": body}))  # fmt: skip
    return rows


def build(ctx: DemoContext) -> None:
    staff = ctx.objects["staff"]
    manager = next(u for u in staff if u.groups.filter(name=Role.MANAGER).exists())
    writers = [u for u in staff if u.groups.filter(name=Role.AGENT).exists()] or [manager]
    categories = {
        name: actions.do_save_category(
            None, values={"name": name, "description": text, "position": i}, actor=manager
        )
        for i, (name, text) in enumerate(CATEGORIES)
    }
    products = list(ctx.objects.get("products", {}).values())
    rows = _articles(products)
    published = []
    for i, (category, visibility, tiers, product, values) in enumerate(rows):
        article = actions.do_create_article(
            values={
                **values, "category": categories[category], "product": product,
                "visibility": visibility, "plan_tiers": f",{tiers}," if tiers else "",
                "tags": category.lower().replace(" ", "-"),
            },
            author=ctx.rng.choice(writers),
        )  # fmt: skip
        if i % 17 == 5:
            continue  # a few drafts waiting for review
        actions.do_publish_article(article, actor=manager)
        if i % 41 == 40:
            actions.do_archive_article(article, actor=manager)
        else:
            published.append(article)
    ctx.log(f"  {len(rows)} articles in {len(categories)} categories")
    _readers_at_work(ctx, published)
    # Vectors now rather than by the job worker, so semantic search works at once.
    started = time.monotonic()
    embedded = actions.do_embed_articles()
    ctx.log(f"  {embedded} article vectors in {time.monotonic() - started:.1f} s")


COMMENTS = (
    "",
    "",
    "Exactly what I needed.",
    "The screenshots are out of date.",
    "Step 3 did not apply to our release.",
)


def _readers_at_work(ctx: DemoContext, published: list[Article]) -> None:
    """Views, "Was this helpful?" answers and suggestion sessions of the named customers on
    public articles, so the article pages and the deflection rate show figures."""
    contacts = [ctx.objects.get(name) for name in ("ada", "bob", "hank", "peter")]
    readers = [c.user for c in contacts if isinstance(c, Contact) and c.user is not None]
    public = [a for a in published if a.visibility == Visibility.PUBLIC][:15]
    if not readers or len(public) < 3:
        return
    rng, today = ctx.rng, timezone.localdate()
    answers = 0
    for article in public:
        for reader in readers:
            visitor = checks.visitor_key(reader, None)
            for days_ago in rng.sample(range(30), rng.randint(1, 4)):
                day = today - dt.timedelta(days=days_ago)
                actions.do_record_view(article, visitor=visitor, day=day)
            if rng.random() < 0.5:
                actions.do_record_feedback(
                    article, helpful=rng.random() < 0.75, comment=rng.choice(COMMENTS),
                    visitor=visitor, user=reader,
                )  # fmt: skip
                answers += 1
    outcomes: Counter[str] = Counter()
    for _ in range(40):
        reader = rng.choice(readers)
        shown = rng.sample(public, 3)
        session = actions.do_record_suggestions(
            token=checks.new_session_token(), contact=reader, articles=shown
        )
        roll = rng.random()
        if roll < 0.6:
            actions.do_record_suggestion(session, kind=SuggestionKind.CLICK, article=shown[0])
        if roll < 0.35:
            actions.do_record_suggestion(session, kind=SuggestionKind.SOLVED, article=shown[0])
            outcomes["solved"] += 1
        elif roll < 0.8:
            case = Case.objects.filter(contact__user=reader).order_by("-pk").first()
            actions.do_record_suggestion(session, kind=SuggestionKind.OPENED, case=case)
            outcomes["opened anyway"] += 1
    ctx.log(
        f"  {answers} helpfulness answers; 40 suggestion sessions: {outcomes['solved']} "
        f"solved, {outcomes['opened anyway']} opened the case anyway"
    )
