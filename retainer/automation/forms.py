"""Console forms of automation. They parse; ``checks`` decides (the SSRF rule, known
event types and placeholders live there, for the API too)."""

from __future__ import annotations

from typing import Any

from django import forms

from retainer.accounts.models import Contact, Organization, Team
from retainer.accounts.selectors import staff_people
from retainer.automation import rules
from retainer.automation.choices import RuleTrigger
from retainer.automation.models import (
    DESCRIPTION_MAX_LENGTH,
    MACRO_NAME_MAX_LENGTH,
    RULE_NAME_MAX_LENGTH,
    URL_MAX_LENGTH,
    Macro,
    Rule,
    WebhookEndpoint,
)
from retainer.automation.webhooks import subscribable_topics
from retainer.cases.choices import CaseStatus, Priority, Severity
from retainer.catalog.models import Product, Release
from retainer.contracts.choices import Channel, Tier
from retainer.lib.limits import TEXT_MAX_LENGTH


class EndpointForm(forms.Form):
    url = forms.CharField(
        label="URL",
        max_length=URL_MAX_LENGTH,
        help_text="HTTPS, on a public address.",
        widget=forms.URLInput(),
    )
    description = forms.CharField(
        label="Description", max_length=DESCRIPTION_MAX_LENGTH, required=False
    )
    event_types = forms.MultipleChoiceField(
        label="Event types",
        choices=(),
        widget=forms.SelectMultiple(attrs={"size": 12}),
        help_text="The events this endpoint receives (docs/events.md).",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["event_types"]
        field.choices = [(name, name) for name in subscribable_topics()]

    @staticmethod
    def initial_for(endpoint: WebhookEndpoint) -> dict[str, Any]:
        return {
            "url": endpoint.url,
            "description": endpoint.description,
            "event_types": list(endpoint.event_types),
        }


class MacroForm(forms.Form):
    name = forms.CharField(label="Name", max_length=MACRO_NAME_MAX_LENGTH)
    body = forms.CharField(
        label="Text",
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=(
            "Placeholders: {{ contact.name }}, {{ case.reference }}, {{ balance }}, "
            "{{ decision }}, and {{ article:<slug> }} for a help-centre link."
        ),
    )
    shared = forms.BooleanField(
        label="Shared with every agent", required=False, help_text="Managers only."
    )

    @staticmethod
    def initial_for(macro: Macro) -> dict[str, Any]:
        return {"name": macro.name, "body": macro.body, "shared": macro.shared}


class MacroPickForm(forms.Form):
    macro = forms.IntegerField(min_value=1, max_value=2**63 - 1)


# --- Rules ------------------------------------------------------------------------------------

ANY = [("", "—")]
ACCOUNT_OWNER = "account_owner"


def _split(text: str | None) -> list[str]:
    return [t.strip() for t in (text or "").split(",") if t.strip()]


def _choices(pairs: Any) -> list[tuple[str, str]]:
    return [(str(value), str(label)) for value, label in pairs]


#: Most entries one organizations or contacts condition takes.
LOOKUP_MAX = 50


class LookupField(forms.CharField):
    """Organizations or contacts typed as text, comma-separated: an organization by its
    name, a contact by their e-mail address, either by ``#<id>``. A picker of every
    customer and contact would not scale: this field reads only what was typed. Cleans
    to the list of ids; an entry that names nothing, or names two organizations, is a
    form error that quotes it."""

    def __init__(self, *, model: Any, key: str, what: str, **kwargs: Any) -> None:
        super().__init__(max_length=4000, **kwargs)
        self.model, self.key, self.what = model, key, what

    def to_python(self, value: Any) -> list[int]:  # type: ignore[override]
        text = super().to_python(value) or ""
        entries = list(dict.fromkeys(e.strip() for e in text.replace("\n", ",").split(",")))
        entries = [e for e in entries if e]
        if len(entries) > LOOKUP_MAX:
            raise forms.ValidationError(f"At most {LOOKUP_MAX} {self.what}s.")
        found: list[int] = []
        for entry in entries:
            ids = self._ids(entry)
            if not ids:
                raise forms.ValidationError(f"No active {self.what} is “{entry[:100]}”.")
            if len(ids) > 1:
                raise forms.ValidationError(
                    f"“{entry[:100]}” names {len(ids)} {self.what}s: write #{ids[0]} (or the "
                    f"id of the one you mean) instead."
                )
            found.append(ids[0])
        return list(dict.fromkeys(found))

    def _ids(self, entry: str) -> list[int]:
        rows = self.model.objects.filter(is_active=True)
        if entry.startswith("#") and entry[1:].isdigit() and len(entry) < 13:
            rows = rows.filter(pk=int(entry[1:]))
        else:
            rows = rows.filter(**{f"{self.key}__iexact": entry})
        return list(rows.order_by("pk").values_list("pk", flat=True)[:5])

    def show(self, ids: list[int]) -> str:
        """What the field shows for saved ids: names (e-mails), or ``#id`` for a name
        that is not unique or a row that is gone."""
        rows = dict(self.model.objects.filter(pk__in=ids).values_list("pk", self.key))
        shown = []
        for pk in ids:
            label = rows.get(pk)
            same = self.model.objects.filter(**{f"{self.key}__iexact": label}) if label else None
            readable = same is not None and same.count() == 1 and "," not in str(label)
            shown.append(str(label) if readable else f"#{pk}")
        return ", ".join(shown)


class RuleForm(forms.Form):
    """A rule on one page, without JavaScript: the trigger, the conditions (empty: any),
    and at most one action of each kind, applied in the order of the fields. The form
    builds the JSON definition; ``checks.check_rule_definition`` decides."""

    name = forms.CharField(label="Name", max_length=RULE_NAME_MAX_LENGTH)
    trigger = forms.ChoiceField(
        label="When",
        choices=RuleTrigger.choices,
        help_text="“Contract expiring” acts on the contract, not a case: it may check only "
        "organizations, plan tiers and products (those the contract covers), may only notify "
        "by e-mail or call a webhook, and its test looks at the contracts about to end.",
    )
    trigger_status = forms.ChoiceField(
        label="Status (time trigger)",
        required=False,
        choices=ANY + _choices(CaseStatus.choices),
        help_text="For “case in a status for N business hours”.",
    )
    trigger_hours = forms.IntegerField(
        label="Business hours (time trigger)", required=False, min_value=1, max_value=2000
    )
    organizations = LookupField(
        model=Organization,
        key="name",
        what="organization",
        label="Organizations",
        required=False,
        help_text="Names, comma-separated (or #id).",
    )
    plan_tiers = forms.MultipleChoiceField(
        label="Plan tiers", required=False, choices=_choices(Tier.choices)
    )
    products = forms.MultipleChoiceField(label="Products", required=False)
    contacts = LookupField(
        model=Contact,
        key="email",
        what="contact",
        label="Contacts (requester)",
        required=False,
        help_text="E-mail addresses, comma-separated (or #id).",
    )
    releases = forms.MultipleChoiceField(label="Releases", required=False)
    channels = forms.MultipleChoiceField(
        label="Channels", required=False, choices=_choices(Channel.choices)
    )
    severities = forms.MultipleChoiceField(
        label="Severities", required=False, choices=_choices(Severity.choices)
    )
    priorities = forms.MultipleChoiceField(
        label="Priorities", required=False, choices=_choices(Priority.choices)
    )
    statuses = forms.MultipleChoiceField(
        label="Statuses", required=False, choices=_choices(CaseStatus.choices)
    )
    tags = forms.CharField(label="Tags (any of, comma-separated)", required=False, max_length=500)
    text = forms.CharField(label="Subject or description contains", required=False, max_length=200)
    assign_agent = forms.ChoiceField(label="Assign to agent", required=False)
    assign_team = forms.ChoiceField(label="Assign to team", required=False)
    strategy = forms.ChoiceField(
        label="Pick the team's agent",
        required=False,
        choices=[("round_robin", "Round-robin"), ("least_loaded", "Least loaded")],
    )
    set_priority = forms.ChoiceField(
        label="Set priority", required=False, choices=ANY + _choices(Priority.choices)
    )
    set_severity = forms.ChoiceField(
        label="Set severity", required=False, choices=ANY + _choices(Severity.choices)
    )
    set_status = forms.ChoiceField(
        label="Set status", required=False, choices=ANY + _choices(CaseStatus.choices)
    )
    add_note = forms.CharField(
        label="Add an internal note",
        required=False,
        max_length=rules.TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    send_reply = forms.CharField(
        label="Send a reply",
        required=False,
        max_length=rules.TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Placeholders as in macros: {{ contact.name }}, {{ case.reference }}, "
        "{{ balance }}, {{ decision }}, {{ article:<slug> }}.",
    )
    add_tags = forms.CharField(label="Add tags (comma-separated)", required=False, max_length=500)
    remove_tags = forms.CharField(
        label="Remove tags (comma-separated)", required=False, max_length=500
    )
    notify = forms.ChoiceField(
        label="Notify by e-mail",
        required=False,
        help_text="A staff member, or the account owner of the case's (or the contract's) "
        "organization.",
    )
    call_webhook = forms.ChoiceField(label="Call the webhook", required=False)
    last = forms.IntegerField(
        label="Test on the last N cases",
        min_value=1,
        max_value=rules.DRY_RUN_MAX,
        initial=50,
        required=False,
    )

    CONDITION_FIELDS = (
        "organizations", "plan_tiers", "products", "contacts", "releases", "channels",
        "severities", "priorities", "statuses",
    )  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields: Any = self.fields
        fields["products"].choices = _choices(Product.objects.values_list("pk", "name"))
        fields["releases"].choices = _choices(
            (r.pk, f"{r.product.name} {r.version}")
            for r in Release.objects.select_related("product")
        )
        fields["notify"].choices = [
            *ANY,
            (ACCOUNT_OWNER, "The organization's account owner"),
            *_choices(staff_people().values_list("pk", "full_name")),
        ]
        fields["assign_agent"].choices = ANY + _choices(
            staff_people().values_list("pk", "full_name")
        )
        fields["assign_team"].choices = ANY + _choices(
            Team.objects.filter(is_active=True).values_list("pk", "name")
        )
        fields["call_webhook"].choices = ANY + _choices(
            WebhookEndpoint.objects.values_list("pk", "url")
        )

    def conditions(self) -> dict[str, Any]:
        data = self.cleaned_data
        conditions: dict[str, Any] = {}
        for name in self.CONDITION_FIELDS:
            values = data.get(name) or []
            if values:
                numeric = name in (*rules.ID_LISTS, "severities")
                conditions[name] = [int(v) for v in values] if numeric else list(values)
        tags = _split(data.get("tags"))
        if tags:
            conditions["tags"] = tags
        if data.get("text"):
            conditions["text"] = data["text"]
        return conditions

    def actions(self) -> list[dict[str, Any]]:
        data = self.cleaned_data
        actions: list[dict[str, Any]] = []
        if data.get("assign_agent"):
            actions.append({"type": "assign_agent", "agent": int(data["assign_agent"])})
        if data.get("assign_team"):
            actions.append(
                {
                    "type": "assign_team",
                    "team": int(data["assign_team"]),
                    "strategy": data.get("strategy") or "round_robin",
                }
            )
        for kind in ("set_priority", "set_severity", "set_status"):
            if data.get(kind):
                actions.append({"type": kind, "value": data[kind]})
        for kind in ("add_note", "send_reply"):
            if (data.get(kind) or "").strip():
                actions.append({"type": kind, "text": data[kind]})
        add, remove = _split(data.get("add_tags")), _split(data.get("remove_tags"))
        if add or remove:
            actions.append({"type": "set_tags", "add": add, "remove": remove})
        if data.get("notify") == ACCOUNT_OWNER:
            actions.append({"type": "notify", "recipient": ACCOUNT_OWNER})
        elif data.get("notify"):
            actions.append({"type": "notify", "recipient": "agent", "agent": int(data["notify"])})
        if data.get("call_webhook"):
            actions.append({"type": "call_webhook", "endpoint": int(data["call_webhook"])})
        return actions

    def definition(self) -> dict[str, Any]:
        """The rule's JSON definition, for ``checks.check_rule_definition``."""
        data = self.cleaned_data
        return {
            "name": data["name"],
            "trigger": data["trigger"],
            "trigger_status": data.get("trigger_status") or "",
            "trigger_hours": data.get("trigger_hours"),
            "conditions": self.conditions(),
            "actions": self.actions(),
        }

    @staticmethod
    def initial_for(rule: Rule) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "name": rule.name,
            "trigger": rule.trigger,
            "trigger_status": rule.trigger_status,
            "trigger_hours": rule.trigger_hours,
        }
        conditions = rule.conditions or {}
        for name in RuleForm.CONDITION_FIELDS:
            field = RuleForm.base_fields[name]
            values = conditions.get(name, [])
            if isinstance(field, LookupField):
                initial[name] = field.show(values) if values else ""
            else:
                initial[name] = [str(v) for v in values]
        initial["tags"] = ", ".join(conditions.get("tags", []))
        initial["text"] = conditions.get("text", "")
        for action in rule.actions or []:
            kind = action.get("type")
            if kind == "assign_agent":
                initial["assign_agent"] = str(action["agent"])
            elif kind == "assign_team":
                initial["assign_team"] = str(action["team"])
                initial["strategy"] = action.get("strategy", "round_robin")
            elif kind in ("set_priority", "set_severity", "set_status"):
                initial[kind] = str(action["value"])
            elif kind in ("add_note", "send_reply"):
                initial[kind] = action["text"]
            elif kind == "set_tags":
                initial["add_tags"] = ", ".join(action.get("add") or [])
                initial["remove_tags"] = ", ".join(action.get("remove") or [])
            elif kind == "notify":
                is_owner = action.get("recipient") == ACCOUNT_OWNER
                initial["notify"] = ACCOUNT_OWNER if is_owner else str(action.get("agent"))
            elif kind == "call_webhook":
                initial["call_webhook"] = str(action["endpoint"])
        return initial


class DryRunForm(forms.Form):
    last = forms.IntegerField(
        label="Test on the last N cases", min_value=1, max_value=rules.DRY_RUN_MAX, initial=50
    )


class MoveForm(forms.Form):
    direction = forms.ChoiceField(choices=[("up", "Up"), ("down", "Down")])
