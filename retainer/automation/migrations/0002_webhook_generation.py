"""Every change of the webhook endpoints renews the ``webhooks`` generation token, so each
process's copy of the topics active endpoints subscribe to (``webhooks.wants``) reloads
at once."""

from django.db import migrations

from retainer.lib.snapshots import generation_triggers


class Migration(migrations.Migration):
    dependencies = [
        ("automation", "0001_webhooks_and_macros"),
        ("lib", "0002_generations"),
    ]

    operations = [generation_triggers("webhooks", ["automation_webhookendpoint"])]
