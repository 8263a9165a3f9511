"""Account events become typed (``accounts/events.py``): carry the stored payloads over.

A payload field may not be called ``name`` (an event's ``name`` is its topic), and an
update's changed fields move under ``changes``:

- ``organization_created``: ``name`` → ``organization_name``
- ``team_created`` / ``team_updated``: ``name`` → ``team_name``
- ``organization_updated`` / ``contact_updated``: ``{field: …}`` → ``{"changes": {field: …}}``

Also adds the ``staff_updated`` type.
"""

from django.db import migrations, models

RENAMED = {
    "organization_created": ("name", "organization_name"),
    "team_created": ("name", "team_name"),
    "team_updated": ("name", "team_name"),
}
WRAPPED = ("organization_updated", "contact_updated")
BATCH = 1000


def _rewrite(apps, convert) -> None:
    AccountEvent = apps.get_model("accounts", "AccountEvent")
    rows = AccountEvent.objects.filter(type__in=[*RENAMED, *WRAPPED]).only("type", "data")
    changed = []
    for row in rows.iterator(chunk_size=BATCH):
        data = convert(row.type, dict(row.data or {}))
        if data != row.data:
            row.data = data
            changed.append(row)
        if len(changed) >= BATCH:
            AccountEvent.objects.bulk_update(changed, ["data"])
            changed = []
    AccountEvent.objects.bulk_update(changed, ["data"])


def forwards(apps, schema_editor) -> None:
    def convert(type_: str, data: dict) -> dict:
        if type_ in RENAMED:
            old, new = RENAMED[type_]
            if old in data:
                data[new] = data.pop(old)
        elif "changes" not in data:
            data = {"changes": data}
        return data

    _rewrite(apps, convert)


def backwards(apps, schema_editor) -> None:
    def convert(type_: str, data: dict) -> dict:
        if type_ in RENAMED:
            old, new = RENAMED[type_]
            if new in data:
                data[old] = data.pop(new)
        elif set(data) == {"changes"}:
            data = data["changes"]
        return data

    _rewrite(apps, convert)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_portal_sharing_and_magic_links")]

    operations = [
        migrations.AlterField(
            model_name="accountevent",
            name="type",
            field=models.CharField(
                choices=[
                    ("organization_created", "Organization Created"),
                    ("organization_updated", "Organization Updated"),
                    ("organization_domains_changed", "Organization Domains Changed"),
                    ("organization_deactivated", "Organization Deactivated"),
                    ("organization_reactivated", "Organization Reactivated"),
                    ("contact_created", "Contact Created"),
                    ("contact_updated", "Contact Updated"),
                    ("contact_deactivated", "Contact Deactivated"),
                    ("contact_reactivated", "Contact Reactivated"),
                    ("contact_portal_access_granted", "Contact Portal Access Granted"),
                    ("staff_created", "Staff Created"),
                    ("staff_roles_changed", "Staff Roles Changed"),
                    ("staff_updated", "Staff Updated"),
                    ("user_deactivated", "User Deactivated"),
                    ("user_reactivated", "User Reactivated"),
                    ("team_created", "Team Created"),
                    ("team_updated", "Team Updated"),
                ],
                max_length=40,
            ),
        ),
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
