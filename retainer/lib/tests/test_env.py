from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured

from retainer.lib.env import Env


def test_booleans_accept_the_usual_spellings():
    env = Env({"A": "yes", "B": "0", "C": " TRUE "})
    assert env.boolean("A") is True
    assert env.boolean("B") is False
    assert env.boolean("C") is True


def test_a_bad_boolean_names_the_variable_and_the_value():
    with pytest.raises(ImproperlyConfigured, match=r"RETAINER_DEBUG must be one of .* got 'maybe'"):
        Env({"RETAINER_DEBUG": "maybe"}).boolean("RETAINER_DEBUG", False)


def test_a_missing_required_value_is_an_error():
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY is required but not set"):
        Env({}).string("SECRET_KEY")


def test_an_empty_value_counts_as_missing():
    assert Env({"X": "  "}).string("X", "fallback") == "fallback"


def test_integers_are_parsed_and_bounded():
    env = Env({"N": "12", "BAD": "12.5", "LOW": "-1"})
    assert env.integer("N") == 12
    with pytest.raises(ImproperlyConfigured, match=r"BAD must be a whole number, got '12\.5'"):
        env.integer("BAD")
    with pytest.raises(ImproperlyConfigured, match="LOW must be at least 0, got -1"):
        env.integer("LOW", min_value=0)
    assert env.integer("ABSENT", 7) == 7


def test_decimals_reject_garbage_and_infinity():
    env = Env({"RATE": "0.19", "BAD": "abc", "INF": "Infinity"})
    assert env.number("RATE") == Decimal("0.19")
    with pytest.raises(ImproperlyConfigured, match="BAD must be a decimal number"):
        env.number("BAD")
    with pytest.raises(ImproperlyConfigured, match="INF must be a finite number"):
        env.number("INF")


def test_lists_split_on_commas_and_drop_blanks():
    assert Env({"HOSTS": "a.example, b.example,,"}).items("HOSTS") == ["a.example", "b.example"]
    assert Env({}).items("HOSTS", ["x"]) == ["x"]


def test_choices_are_enforced():
    with pytest.raises(
        ImproperlyConfigured, match="RETAINER_MODE must be one of demo, production, got 'prod'"
    ):
        Env({"RETAINER_MODE": "prod"}).choice("RETAINER_MODE", ("demo", "production"))


def test_time_zones_must_be_iana_names():
    assert Env({"TZ": "Europe/Berlin"}).timezone("TZ") == "Europe/Berlin"
    with pytest.raises(ImproperlyConfigured, match="TZ must be an IANA time zone"):
        Env({"TZ": "Mars/Olympus"}).timezone("TZ")


def test_urls_must_have_an_allowed_scheme_and_never_echo_the_secret_part():
    env = Env({"DATABASE_URL": "mysql://user:s3cret@host/db"})
    with pytest.raises(ImproperlyConfigured) as excinfo:
        env.url("DATABASE_URL", ("postgres", "sqlite"))
    assert "s3cret" not in str(excinfo.value)
    assert "'mysql'" in str(excinfo.value)
    assert Env({}).url("DATABASE_URL", ("postgres",)) is None
