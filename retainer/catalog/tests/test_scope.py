"""The scope-of-support rule as a pure function, with properties over orderings and dates."""

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from retainer.catalog.scope import PolicyFacts, ReleaseFacts, evaluate_scope, supported_releases

D = dt.date


def releases(*ga_dates, eos=None, product_id=1):
    eos = eos or {}
    return [
        ReleaseFacts(
            id=n,
            product_id=product_id,
            version=f"{n}.0",
            order=n,
            ga_date=ga,
            end_of_support_date=eos.get(n),
        )
        for n, ga in enumerate(ga_dates, start=1)
    ]


def policy(previous=2, eos=True, envs=(), modified=False, third=False):
    return PolicyFacts(
        product_id=1,
        supported_previous_releases=previous,
        honour_end_of_support_dates=eos,
        supported_environment_ids=frozenset(envs),
        modified_source_supported=modified,
        third_party_supported=third,
    )


HISTORY = releases(D(2022, 1, 1), D(2023, 1, 1), D(2024, 1, 1), D(2025, 1, 1), D(2026, 1, 1))


def verdict(release_id, on=D(2026, 6, 1), pol=None, **kw):
    return evaluate_scope(
        policy=pol or policy(),
        releases=HISTORY,
        release=HISTORY[release_id - 1],
        environment_id=None,
        on=on,
        **kw,
    )


def test_current_and_two_previous_releases_are_in_scope():
    assert [verdict(n).in_scope for n in (5, 4, 3, 2, 1)] == [True, True, True, False, False]


def test_a_release_older_than_current_plus_two_is_out_of_scope_and_offers_a_backport():
    result = verdict(2)
    assert result.reason_codes == ["release_too_old"]
    assert result.findings[0].offering_kind == "backport"
    assert "5.0, 4.0, 3.0" in result.findings[0].message


def test_current_is_judged_on_the_date_asked_about():
    # Before 5.0 shipped, 2.0 was still within current + 2.
    assert verdict(2, on=D(2025, 6, 1)).in_scope


def test_a_release_not_yet_available_is_out_of_scope():
    result = verdict(5, on=D(2025, 6, 1))
    assert result.reason_codes == ["release_not_released"]


def test_explicit_end_of_support_dates_apply_on_their_own():
    history = releases(D(2022, 1, 1), D(2023, 1, 1), eos={1: D(2024, 12, 31)})
    pol = policy(previous=None)
    on_eos = evaluate_scope(
        policy=pol, releases=history, release=history[0], environment_id=None, on=D(2024, 12, 31)
    )
    after = evaluate_scope(
        policy=pol, releases=history, release=history[0], environment_id=None, on=D(2025, 1, 1)
    )
    assert on_eos.in_scope
    assert after.reason_codes == ["release_end_of_support"]
    assert "2024-12-31" in after.findings[0].message


def test_environment_modified_source_and_third_party_are_each_reported():
    result = evaluate_scope(
        policy=policy(envs={1, 2}),
        releases=HISTORY,
        release=HISTORY[-1],
        environment_id=3,
        on=D(2026, 6, 1),
        modified_source=True,
        third_party=True,
    )
    assert result.reason_codes == ["environment_unsupported", "modified_source", "third_party"]
    assert [f.offering_kind for f in result.findings] == [
        "porting",
        "customization",
        "customization",
    ]


def test_an_empty_environment_list_means_any_environment():
    assert evaluate_scope(
        policy=policy(), releases=HISTORY, release=HISTORY[-1], environment_id=99, on=D(2026, 6, 1)
    ).in_scope


def test_a_release_of_another_product_is_out_of_scope():
    foreign = ReleaseFacts(id=99, product_id=2, version="9.0", order=1, ga_date=D(2020, 1, 1))
    result = evaluate_scope(
        policy=policy(), releases=HISTORY, release=foreign, environment_id=None, on=D(2026, 1, 2)
    )
    assert result.reason_codes == ["release_other_product"]


# --- properties ---------------------------------------------------------------------------

dates = st.dates(min_value=D(2015, 1, 1), max_value=D(2035, 1, 1))


@st.composite
def release_histories(draw):
    """Releases with increasing order and non-decreasing GA dates, some with EOS dates."""
    count = draw(st.integers(min_value=1, max_value=12))
    ga = draw(st.lists(dates, min_size=count, max_size=count).map(sorted))
    orders = sorted(
        draw(st.lists(st.integers(0, 1000), min_size=count, max_size=count, unique=True))
    )
    result = []
    for n in range(count):
        lifetime = draw(st.one_of(st.none(), st.integers(0, 3000)))
        eos = None if lifetime is None else ga[n] + dt.timedelta(days=lifetime)
        result.append(
            ReleaseFacts(
                id=n + 1,
                product_id=1,
                version=f"{n}",
                order=orders[n],
                ga_date=ga[n],
                end_of_support_date=eos,
            )
        )
    return result


@given(
    history=release_histories(),
    previous=st.one_of(st.none(), st.integers(0, 5)),
    honour=st.booleans(),
    on=dates,
)
def test_supported_releases_are_generally_available_newest_first_and_at_most_n_plus_one(
    history, previous, honour, on
):
    if previous is None and not honour:
        honour = True  # a policy needs at least one release rule
    pol = PolicyFacts(
        product_id=1, supported_previous_releases=previous, honour_end_of_support_dates=honour
    )
    current, supported = supported_releases(history, pol, on)
    assert all(r.ga_date <= on for r in supported)
    assert [r.order for r in supported] == sorted((r.order for r in supported), reverse=True)
    if previous is not None:
        assert len(supported) <= previous + 1
    if honour:
        assert all(r.end_of_support_date is None or on <= r.end_of_support_date for r in supported)
    available = [r for r in history if r.ga_date <= on]
    assert current == (max(available, key=lambda r: r.order).id if available else None)


@given(history=release_histories(), previous=st.integers(0, 5), on=dates, data=st.data())
def test_a_newer_release_is_never_less_supported_than_an_older_one_without_eos(
    history, previous, on, data
):
    pol = PolicyFacts(
        product_id=1, supported_previous_releases=previous, honour_end_of_support_dates=False
    )
    ga_ok = [r for r in history if r.ga_date <= on]
    if len(ga_ok) < 2:
        return
    older, newer = sorted(
        data.draw(st.lists(st.sampled_from(ga_ok), min_size=2, max_size=2, unique=True)),
        key=lambda r: r.order,
    )
    verdict_old = evaluate_scope(
        policy=pol, releases=history, release=older, environment_id=None, on=on
    )
    verdict_new = evaluate_scope(
        policy=pol, releases=history, release=newer, environment_id=None, on=on
    )
    assert not (verdict_old.in_scope and not verdict_new.in_scope)


@given(
    history=release_histories(), previous=st.integers(0, 5), on=dates, later=st.integers(0, 4000)
)
def test_without_eos_dates_a_release_in_scope_now_stays_in_scope_until_newer_ones_ship(
    history, previous, on, later
):
    pol = PolicyFacts(
        product_id=1, supported_previous_releases=previous, honour_end_of_support_dates=False
    )
    future = on + dt.timedelta(days=later)
    shipped_between = [r for r in history if on < r.ga_date <= future]
    _, now = supported_releases(history, pol, on)
    _, then = supported_releases(history, pol, future)
    if not shipped_between:
        assert {r.id for r in now} <= {r.id for r in then}


@given(history=release_histories(), on=dates)
def test_the_verdict_lists_a_finding_exactly_when_out_of_scope(history, on):
    pol = PolicyFacts(product_id=1, supported_previous_releases=1, honour_end_of_support_dates=True)
    for release in history:
        result = evaluate_scope(
            policy=pol, releases=history, release=release, environment_id=None, on=on
        )
        assert result.in_scope == (not result.findings)
        assert result.in_scope == (release.id in result.supported_release_ids)
