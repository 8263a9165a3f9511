"""The scope-of-support rule, as a pure function over plain values (no ORM).

"Current" release on a date is the latest release (by order) that is generally
available on that date. A policy may support the current release plus N previous
ones, may honour explicit end-of-support dates, or both: a release is in scope
only if every rule the policy uses says so.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from retainer.catalog.choices import OfferingKind, ScopeReason

# The service offered instead of support, per reason a request is out of scope.
OFFERING_FOR_REASON: dict[str, str] = {
    ScopeReason.RELEASE_END_OF_SUPPORT: OfferingKind.BACKPORT,
    ScopeReason.RELEASE_TOO_OLD: OfferingKind.BACKPORT,
    ScopeReason.RELEASE_NOT_RELEASED: OfferingKind.INSTALLATION,
    ScopeReason.RELEASE_OTHER_PRODUCT: OfferingKind.MIGRATION,
    ScopeReason.ENVIRONMENT_UNSUPPORTED: OfferingKind.PORTING,
    ScopeReason.MODIFIED_SOURCE: OfferingKind.CUSTOMIZATION,
    ScopeReason.THIRD_PARTY: OfferingKind.CUSTOMIZATION,
}


@dataclass(frozen=True)
class ReleaseFacts:
    id: int
    product_id: int
    version: str
    order: int
    ga_date: dt.date
    end_of_support_date: dt.date | None = None


@dataclass(frozen=True)
class PolicyFacts:
    product_id: int
    supported_previous_releases: int | None  # None: the "current + N" rule is not used
    honour_end_of_support_dates: bool
    supported_environment_ids: frozenset[int] = frozenset()  # empty: any environment
    modified_source_supported: bool = False
    third_party_supported: bool = False


@dataclass(frozen=True)
class ScopeFinding:
    code: str
    message: str
    offering_kind: str


@dataclass(frozen=True)
class ScopeVerdict:
    in_scope: bool
    findings: tuple[ScopeFinding, ...] = field(default=())
    current_release_id: int | None = None
    supported_release_ids: tuple[int, ...] = ()

    @property
    def reason_codes(self) -> list[str]:
        return [finding.code for finding in self.findings]


def supported_releases(
    releases: list[ReleaseFacts], policy: PolicyFacts, on: dt.date
) -> tuple[int | None, list[ReleaseFacts]]:
    """Return the current release's id and the releases in scope on ``on``, newest first."""
    available = sorted(
        (r for r in releases if r.product_id == policy.product_id and r.ga_date <= on),
        key=lambda r: r.order,
        reverse=True,
    )
    if not available:
        return None, []
    current = available[0]
    supported = available
    if policy.supported_previous_releases is not None:
        supported = supported[: policy.supported_previous_releases + 1]
    if policy.honour_end_of_support_dates:
        supported = [
            r for r in supported if r.end_of_support_date is None or on <= r.end_of_support_date
        ]
    return current.id, supported


def _finding(code: str, message: str) -> ScopeFinding:
    return ScopeFinding(code=code, message=message, offering_kind=OFFERING_FOR_REASON[code])


def _release_finding(
    release: ReleaseFacts, policy: PolicyFacts, supported: list[ReleaseFacts], on: dt.date
) -> ScopeFinding | None:
    """Why ``release`` is out of scope on ``on`` (``supported`` are the releases in scope),
    or None when it is in scope."""
    if release.product_id != policy.product_id:
        return _finding(
            ScopeReason.RELEASE_OTHER_PRODUCT,
            f"Release {release.version} belongs to another product.",
        )
    if release.ga_date > on:
        return _finding(
            ScopeReason.RELEASE_NOT_RELEASED,
            f"Release {release.version} is not generally available until "
            f"{release.ga_date.isoformat()}.",
        )
    if release.id in {r.id for r in supported}:
        return None
    eos = release.end_of_support_date
    if policy.honour_end_of_support_dates and eos is not None and on > eos:
        return _finding(
            ScopeReason.RELEASE_END_OF_SUPPORT,
            f"Release {release.version} reached its end of support on {eos.isoformat()}.",
        )
    n = policy.supported_previous_releases
    newest = ", ".join(r.version for r in supported) or "none"
    return _finding(
        ScopeReason.RELEASE_TOO_OLD,
        f"Release {release.version} is older than the supported releases "
        f"(the current release and {n} previous: {newest}).",
    )


def evaluate_scope(
    *,
    policy: PolicyFacts,
    releases: list[ReleaseFacts],
    release: ReleaseFacts | None,
    environment_id: int | None,
    on: dt.date,
    modified_source: bool = False,
    third_party: bool = False,
) -> ScopeVerdict:
    """Decide whether a request about ``release`` / ``environment_id`` is in scope on ``on``.

    Every reason that applies is reported, each with the kind of service offering that
    covers it instead, so the customer sees the whole answer at once.
    """
    current_id, supported = supported_releases(releases, policy, on)
    findings: list[ScopeFinding] = []
    if release is not None and (finding := _release_finding(release, policy, supported, on)):
        findings.append(finding)
    if (
        environment_id is not None
        and policy.supported_environment_ids
        and environment_id not in policy.supported_environment_ids
    ):
        findings.append(
            _finding(
                ScopeReason.ENVIRONMENT_UNSUPPORTED,
                "This environment is not on the list of supported environments.",
            )
        )
    if modified_source and not policy.modified_source_supported:
        findings.append(
            _finding(ScopeReason.MODIFIED_SOURCE, "Modified source code is not supported.")
        )
    if third_party and not policy.third_party_supported:
        findings.append(
            _finding(
                ScopeReason.THIRD_PARTY, "Integrations with third-party products are not supported."
            )
        )
    return ScopeVerdict(
        in_scope=not findings,
        findings=tuple(findings),
        current_release_id=current_id,
        supported_release_ids=tuple(r.id for r in supported),
    )
