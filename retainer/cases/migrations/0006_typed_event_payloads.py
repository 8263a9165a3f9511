"""Case events become typed (``cases/events.py``): carry the stored payloads over, so
every row has its type's current shape (the classes still read the old shapes too).

- ``assigned``: ``{"changes": {"assignee": {old, new}}}`` → ``assignee``, ``previous``
  and ``assignee_name`` (the assignee's name today)
- ``fields_changed`` / ``time_changed``: ``{"changes": {field: …}}`` → one key per field
  (the case's ``type`` as ``case_type``)
- ``decision_overridden``: ``{"old": {outcome, contract}, "new": {…}}`` →
  ``old_outcome``, ``old_contract``, ``new_outcome``, ``new_contract``
- ``attachment_added``: ``name`` → ``file_name``
"""

from django.db import migrations

BATCH = 1000
TYPES = ("assigned", "fields_changed", "time_changed", "decision_overridden", "attachment_added")


def _flatten(data: dict) -> dict:
    changes = data.pop("changes", None) or {}
    if "type" in changes:
        changes["case_type"] = changes.pop("type")
    return {**changes, **data}


def _convert(type_: str, data: dict, names: dict) -> dict:
    if type_ == "assigned" and "changes" in data:
        change = (data.get("changes") or {}).get("assignee") or {}
        return {
            "assignee": change.get("new"),
            "assignee_name": names.get(change.get("new"), ""),
            "previous": change.get("old"),
        }
    if type_ in ("fields_changed", "time_changed") and "changes" in data:
        return _flatten(data)
    if type_ == "decision_overridden" and ("old" in data or "new" in data):
        old, new = data.get("old") or {}, data.get("new") or {}
        return {
            "old_outcome": old.get("outcome", ""),
            "old_contract": old.get("contract"),
            "new_outcome": new.get("outcome", ""),
            "new_contract": new.get("contract"),
            "reason": data.get("reason", ""),
        }
    if type_ == "attachment_added" and "name" in data:
        data["file_name"] = data.pop("name")
    return data


def forwards(apps, schema_editor) -> None:
    CaseEvent = apps.get_model("cases", "CaseEvent")
    User = apps.get_model("accounts", "User")
    names = dict(User.objects.filter(is_staff=True).values_list("pk", "full_name"))
    changed = []
    rows = CaseEvent.objects.filter(type__in=TYPES).only("type", "data")
    for row in rows.iterator(chunk_size=BATCH):
        data = _convert(row.type, dict(row.data or {}), names)
        if data != row.data:
            row.data = data
            changed.append(row)
        if len(changed) >= BATCH:
            CaseEvent.objects.bulk_update(changed, ["data"])
            changed = []
    CaseEvent.objects.bulk_update(changed, ["data"])


class Migration(migrations.Migration):
    dependencies = [("cases", "0005_sla_generation")]

    # Backwards leaves the rows as they are: the event classes read either shape.
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
