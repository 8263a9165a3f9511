"""Rules on events: the typed shape of a rule's conditions and actions, and whether a
case matches (pure: no ORM).

A rule stores its conditions and actions as JSON. ``parse_conditions`` and
``parse_actions`` turn that JSON into frozen dataclasses or raise ``RuleSchemaError``
naming the part that is wrong (an unknown field or action, a value of the wrong type);
the check functions (``automation/checks.py``) then check that the ids it names exist.
``matches`` says whether a case, described by ``CaseFacts``, meets every condition.

A rule whose trigger is in ``CONTRACT_TRIGGERS`` has no case: it is about a contract,
may check only ``CONTRACT_CONDITIONS`` and do only ``CONTRACT_ACTIONS``
(``check_contract_rule``), and ``matches_contract`` reads ``ContractFacts``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: The deepest chain of rules: a change made by a rule may trigger rules until this depth.
MAX_DEPTH = 3
#: The most cases a dry run looks at.
DRY_RUN_MAX = 500
#: Longest text a condition or an action carries.
TEXT_LIMIT = 5000

STATUSES = (
    "new",
    "open",
    "waiting_on_customer",
    "waiting_on_vendor",
    "resolved",
    "closed",
    "cancelled",
)
PRIORITIES = ("low", "normal", "high", "urgent")
SEVERITIES = (1, 2, 3, 4)
CHANNELS = ("web", "email", "phone", "api")
TIERS = ("basic", "silver", "gold", "platinum")
STRATEGIES = ("round_robin", "least_loaded")
#: Whom a ``notify`` action e-mails: a chosen staff member, or the case organization's
#: account owner. Never a customer.
RECIPIENTS = ("agent", "account_owner")
#: Ids a condition list holds (checked by the caller).
ID_LISTS = ("organizations", "products", "contacts", "releases")
#: Triggers whose rules act on a contract rather than a case.
CONTRACT_TRIGGERS = ("contract_expiring",)
#: The conditions a contract rule may check: of the contract's organization, the tier of
#: its plan, the products it covers.
CONTRACT_CONDITIONS = ("organizations", "plan_tiers", "products")
#: What a contract rule may do (``notify``'s account owner: the contract organization's).
CONTRACT_ACTIONS = ("notify", "call_webhook")


class RuleSchemaError(ValueError):
    """The JSON of a rule does not have the documented shape; ``part`` names where."""

    def __init__(self, part: str, message: str) -> None:
        super().__init__(message)
        self.part = part
        self.message = message


@dataclass(frozen=True)
class Conditions:
    """Every non-empty condition must hold; an empty one holds for any case. Lists are
    "any of"; ``tags``: the case has at least one of them; ``text``: the subject or the
    description contains it (case-insensitive)."""

    organizations: tuple[int, ...] = ()
    plan_tiers: tuple[str, ...] = ()
    products: tuple[int, ...] = ()
    contacts: tuple[int, ...] = ()
    releases: tuple[int, ...] = ()
    channels: tuple[str, ...] = ()
    severities: tuple[int, ...] = ()
    priorities: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    text: str = ""

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            name: list(getattr(self, name)) for name in CONDITION_LISTS if getattr(self, name)
        }
        if self.text:
            data["text"] = self.text
        return data


@dataclass(frozen=True)
class Action:
    """One thing a rule does. ``type`` is one of ``ACTION_FIELDS``; the other fields are
    those its type takes (the rest keep their defaults)."""

    type: str
    agent: int | None = None
    team: int | None = None
    strategy: str = ""
    value: str = ""
    text: str = ""
    endpoint: int | None = None
    recipient: str = ""
    add: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": self.type}
        for name in ACTION_FIELDS[self.type]:
            value = getattr(self, name)
            data[name] = list(value) if isinstance(value, tuple) else value
        return data


@dataclass(frozen=True)
class CaseFacts:
    """What conditions read of a case."""

    organization: int
    plan_tier: str
    product: int
    contact: int
    release: int | None
    channel: str
    severity: int
    priority: str
    status: str
    tags: tuple[str, ...]
    text: str


@dataclass(frozen=True)
class ContractFacts:
    """What conditions read of a contract (rules with a contract trigger)."""

    organization: int
    plan_tier: str
    products: tuple[int, ...]


CONDITION_LISTS: dict[str, tuple[Any, ...] | None] = {
    "organizations": None,  # ids, checked by the caller
    "plan_tiers": TIERS,
    "products": None,
    "contacts": None,
    "releases": None,
    "channels": CHANNELS,
    "severities": SEVERITIES,
    "priorities": PRIORITIES,
    "statuses": STATUSES,
    "tags": None,  # any text
}

#: Each action type and the fields it takes.
ACTION_FIELDS: dict[str, tuple[str, ...]] = {
    "assign_agent": ("agent",),
    "assign_team": ("team", "strategy"),
    "set_priority": ("value",),
    "set_severity": ("value",),
    "set_status": ("value",),
    "add_note": ("text",),
    "send_reply": ("text",),
    "call_webhook": ("endpoint",),
    "set_tags": ("add", "remove"),
    "notify": ("recipient", "agent"),
}

_VALUES: dict[str, tuple[Any, ...]] = {
    "set_priority": PRIORITIES,
    "set_severity": tuple(str(s) for s in SEVERITIES),
    "set_status": STATUSES,
}


def _id(part: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise RuleSchemaError(part, f"{part}: expected an id (a positive whole number).")
    return value


def _list(part: str, raw: Any, allowed: tuple[Any, ...] | None) -> tuple[Any, ...]:
    if not isinstance(raw, list):
        raise RuleSchemaError(part, f"{part}: expected a list.")
    values: list[Any] = []
    for item in raw:
        if part in ID_LISTS:
            values.append(_id(part, item))
        elif part == "tags":
            if not isinstance(item, str) or not item.strip() or len(item) > 60:
                raise RuleSchemaError(part, "tags: each tag is a text of 1 to 60 characters.")
            values.append(item.strip())
        elif allowed is not None and item not in allowed:
            known = ", ".join(str(a) for a in allowed)
            raise RuleSchemaError(part, f"{part}: unknown value {item!r} (known: {known}).")
        else:
            values.append(item)
    return tuple(dict.fromkeys(values))


def parse_conditions(raw: Any) -> Conditions:
    """The conditions of ``raw`` (a JSON object), or ``RuleSchemaError``."""
    if raw is None:
        return Conditions()
    if not isinstance(raw, Mapping):
        raise RuleSchemaError("conditions", "conditions: expected an object.")
    known = {*CONDITION_LISTS, "text"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise RuleSchemaError(
            "conditions",
            f"Unknown condition field: {', '.join(unknown)} (known: {', '.join(sorted(known))}).",
        )
    values: dict[str, Any] = {
        name: _list(name, raw[name], allowed)
        for name, allowed in CONDITION_LISTS.items()
        if name in raw
    }
    text = raw.get("text", "")
    if not isinstance(text, str) or len(text) > 200:
        raise RuleSchemaError("text", "text: expected a text of at most 200 characters.")
    return Conditions(**values, text=text.strip())


def _tags(part: str, raw: Any) -> tuple[str, ...]:
    """A list of tags for an action (``None``: none)."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise RuleSchemaError("actions", f"{part}: expected a list of tags.")
    values: list[str] = []
    for item in raw:
        if not isinstance(item, str) or not item.strip() or len(item) > 60:
            raise RuleSchemaError("actions", f"{part}: each tag is a text of 1 to 60 characters.")
        values.append(item.strip())
    return tuple(dict.fromkeys(values))


def _set_tags(where: str, raw: Mapping[str, Any]) -> Action:
    add = _tags(f"{where}.add", raw.get("add"))
    remove = _tags(f"{where}.remove", raw.get("remove"))
    if not add and not remove:
        raise RuleSchemaError("actions", f"{where}: set_tags needs tags to add or to remove.")
    both = sorted(set(add) & set(remove))
    if both:
        raise RuleSchemaError(
            "actions", f"{where}: a tag is either added or removed, not both: {', '.join(both)}."
        )
    return Action(type="set_tags", add=add, remove=remove)


def _notify(where: str, raw: Mapping[str, Any]) -> Action:
    recipient = raw.get("recipient")
    if recipient not in RECIPIENTS:
        raise RuleSchemaError(
            "actions", f"{where}: notify's recipient is one of {', '.join(RECIPIENTS)}."
        )
    if recipient == "agent":
        return Action(
            type="notify", recipient="agent", agent=_id(f"{where}.agent", raw.get("agent"))
        )
    if raw.get("agent") is not None:
        raise RuleSchemaError("actions", f"{where}: the account owner needs no agent.")
    return Action(type="notify", recipient="account_owner")


def _action(index: int, raw: Any) -> Action:
    where = f"actions[{index}]"
    if not isinstance(raw, Mapping):
        raise RuleSchemaError("actions", f"{where}: expected an object.")
    kind = raw.get("type")
    if kind not in ACTION_FIELDS:
        raise RuleSchemaError(
            "actions",
            f"{where}: unknown action {kind!r} (known: {', '.join(ACTION_FIELDS)}).",
        )
    takes = ACTION_FIELDS[kind]
    unknown = sorted(set(raw) - {"type", *takes})
    if unknown:
        raise RuleSchemaError("actions", f"{where}: {kind} takes no {', '.join(unknown)}.")
    if kind == "set_tags":
        return _set_tags(where, raw)
    if kind == "notify":
        return _notify(where, raw)
    missing = [name for name in takes if name not in raw and name != "strategy"]
    if missing:
        raise RuleSchemaError("actions", f"{where}: {kind} needs {', '.join(missing)}.")
    values: dict[str, Any] = {}
    for name in ("agent", "team", "endpoint"):
        if name in takes:
            values[name] = _id(f"{where}.{name}", raw[name])
    if "strategy" in takes:
        values["strategy"] = raw.get("strategy") or "round_robin"
        if values["strategy"] not in STRATEGIES:
            raise RuleSchemaError(
                "actions", f"{where}: strategy is one of {', '.join(STRATEGIES)}."
            )
    if "value" in takes:
        value = str(raw["value"])
        if value not in _VALUES[kind]:
            known = ", ".join(str(v) for v in _VALUES[kind])
            raise RuleSchemaError("actions", f"{where}: unknown value {value!r} (known: {known}).")
        values["value"] = value
    if "text" in takes:
        text = raw["text"]
        if not isinstance(text, str) or not text.strip() or len(text) > TEXT_LIMIT:
            raise RuleSchemaError(
                "actions", f"{where}: text of 1 to {TEXT_LIMIT} characters needed."
            )
        values["text"] = text.strip()
    return Action(type=kind, **values)


def parse_actions(raw: Any) -> tuple[Action, ...]:
    """The actions of ``raw`` (a JSON list, in the order they run), or ``RuleSchemaError``.
    A rule does at least one thing, and assigns at most once."""
    if not isinstance(raw, list) or not raw:
        raise RuleSchemaError("actions", "A rule needs at least one action.")
    actions = tuple(_action(index, item) for index, item in enumerate(raw))
    if sum(1 for a in actions if a.type in ("assign_agent", "assign_team")) > 1:
        raise RuleSchemaError("actions", "A rule assigns the case at most once.")
    return actions


def matches(conditions: Conditions, facts: CaseFacts) -> bool:
    """True when the case meets every condition."""
    c = conditions
    checks: Sequence[tuple[Iterable[Any], Any]] = (
        (c.organizations, facts.organization),
        (c.plan_tiers, facts.plan_tier),
        (c.products, facts.product),
        (c.contacts, facts.contact),
        (c.releases, facts.release),
        (c.channels, facts.channel),
        (c.severities, facts.severity),
        (c.priorities, facts.priority),
        (c.statuses, facts.status),
    )
    if any(wanted and value not in wanted for wanted, value in checks):
        return False
    if c.tags and not set(c.tags) & set(facts.tags):
        return False
    return not c.text or c.text.casefold() in facts.text.casefold()


def check_contract_rule(conditions: Conditions, actions: Sequence[Action]) -> None:
    """Refuse, naming it, a condition or an action a contract rule cannot have: it has
    no case to read or change."""
    given = [name for name in (*CONDITION_LISTS, "text") if getattr(conditions, name)]
    foreign = [name for name in given if name not in CONTRACT_CONDITIONS]
    if foreign:
        raise RuleSchemaError(
            "conditions",
            f"A contract expiring rule has no case: it cannot check {', '.join(foreign)} "
            f"(it may check {', '.join(CONTRACT_CONDITIONS)}).",
        )
    kinds = list(dict.fromkeys(a.type for a in actions if a.type not in CONTRACT_ACTIONS))
    if kinds:
        raise RuleSchemaError(
            "actions",
            f"A contract expiring rule has no case: it cannot {', '.join(kinds)} "
            f"(it may {' or '.join(CONTRACT_ACTIONS)}).",
        )


def matches_contract(conditions: Conditions, facts: ContractFacts) -> bool:
    """True when the contract meets every condition (``products``: it covers one of them)."""
    c = conditions
    if c.organizations and facts.organization not in c.organizations:
        return False
    if c.plan_tiers and facts.plan_tier not in c.plan_tiers:
        return False
    return not c.products or bool(set(c.products) & set(facts.products))
