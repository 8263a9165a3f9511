"""The relevance set: realistic customer and agent questions over the demo knowledge base
(``kb/demo.py``), each with the slug of the article that answers it, and MRR@10.

Questions are written as people ask them, mostly not in the article's words ("nobody
remembers the admin login", "kicked out and must sign in again"), and name the product
as customers do. Every expected article is published in the demo (internal ones are
asked by an agent). Used by ``test_semantic_search.py`` and ``bench/search.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

CUTOFF = 10

QUESTIONS: tuple[tuple[str, str], ...] = (
    ("I forgot the administrator password for Ledgerline and can't log in",
     "reset-a-forgotten-admin-password-in-ledgerline-server"),
    ("nobody on our team remembers the Atlas Gateway admin login",
     "reset-a-forgotten-admin-password-in-atlas-gateway"),
    ("our Ledgerline licence expires next week, how do we put in the new one?",
     "rotate-the-licence-key-of-ledgerline-server"),
    ("replace the Fieldkit license file without restarting anything",
     "rotate-the-licence-key-of-fieldkit-sdk"),
    ("can our staff log into Atlas Gateway with Okta or Azure AD?",
     "configure-single-sign-on-saml-for-atlas-gateway"),
    ("Fieldkit SDK login through our corporate identity provider",
     "configure-single-sign-on-saml-for-fieldkit-sdk"),
    ("how often should Atlas Gateway be backed up and how do we test a restore",
     "schedule-and-verify-backups-of-atlas-gateway"),
    ("how many nightly copies of Fieldkit data should we keep",
     "schedule-and-verify-backups-of-fieldkit-sdk"),
    ("Ledgerline gets very slow now that we have millions of records",
     "tune-ledgerline-server-for-large-data-volumes"),
    ("we need Atlas Gateway to keep running if one node dies",
     "set-up-high-availability-for-atlas-gateway"),
    ("after restarting the machine the Ledgerline service won't come up",
     "ledgerline-server-does-not-start-after-a-reboot"),
    ("Fieldkit fails on boot saying address already in use",
     "fieldkit-sdk-does-not-start-after-a-reboot"),
    ("finding anything in Atlas Gateway takes forever",
     "slow-searches-in-atlas-gateway"),
    ("our users never receive the alert emails Ledgerline should send",
     "e-mail-notifications-from-ledgerline-server-are-not-delivered"),
    ("notification mails from Atlas Gateway go nowhere, SMTP times out",
     "e-mail-notifications-from-atlas-gateway-are-not-delivered"),
    ("CSV upload to Fieldkit stops with invalid byte sequence",
     "import-fails-with-an-encoding-error-in-fieldkit-sdk"),
    ("importing our spreadsheet into Ledgerline breaks on accented characters",
     "import-fails-with-an-encoding-error-in-ledgerline-server"),
    ("what do the files in the Atlas Gateway diagnostics archive mean",
     "read-the-atlas-gateway-diagnostic-bundle"),
    ("the times in our scheduled Ledgerline reports are two hours off",
     "known-issue-ledgerline-server-52-shows-the-wrong-time-zone-in-reports"),
    ("Fieldkit workers run out of memory during very large exports",
     "internal-fieldkit-sdk-memory-leak-under-heavy-export-load"),
    ("customer says records in Atlas Gateway are damaged, who do I page",
     "internal-escalation-path-for-atlas-gateway-data-corruption"),
    ("Ledgerline keeps logging me out every few minutes behind our load balancer",
     "users-are-signed-out-of-ledgerline-server-every-few-minutes"),
    ("Fieldkit users get kicked out and have to sign in again all the time",
     "users-are-signed-out-of-fieldkit-sdk-every-few-minutes"),
    ("auditors want a list of who changed what in Fieldkit",
     "export-the-audit-log-of-fieldkit-sdk"),
    ("browsers warn that the Atlas Gateway console is not secure any more",
     "renew-the-tls-certificate-of-atlas-gateway"),
    ("security checklist before putting Ledgerline into production",
     "harden-a-ledgerline-server-installation"),
    ("how many CPUs and how much RAM does a Ledgerline machine need",
     "install-ledgerline-server-52-on-a-new-server"),
    ("move Fieldkit to the newest version without losing our settings",
     "upgrade-fieldkit-sdk-to-30"),
    ("Atlas Gateway 2026.1 update steps for an existing installation",
     "upgrade-atlas-gateway-to-20261"),
    ("how quickly will someone get back to me after I report a problem",
     "how-support-works"),
    ("a new teammate should also be able to raise tickets for us",
     "add-colleagues-to-your-support-account"),
    ("can our dedicated engineer review our setup once a year",
     "book-a-health-check-with-your-named-engineer"),
)  # fmt: skip


def reciprocal_rank(ranked_slugs: Sequence[str], expected: str) -> float:
    """1 / rank of ``expected`` within the first ``CUTOFF`` results, else 0."""
    top = list(ranked_slugs[:CUTOFF])
    return 1.0 / (top.index(expected) + 1) if expected in top else 0.0


def mean_reciprocal_rank(search: Callable[[str], Sequence[str]]) -> float:
    """MRR@10 of ``search`` (a question → the slugs it returns, best first)."""
    ranks = [reciprocal_rank(search(question), slug) for question, slug in QUESTIONS]
    return sum(ranks) / len(ranks)
