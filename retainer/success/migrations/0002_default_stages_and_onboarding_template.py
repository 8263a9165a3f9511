"""The default pipeline (Qualification 10 %, Proposal 40 %, Negotiation 70 %, Won 100 %,
Lost 0 %) and the default onboarding template (kickoff, installation, training,
go-live). Both are data an administrator may change afterwards."""

from django.db import migrations

STAGES = [
    ("Qualification", 10, 10, "open"),
    ("Proposal", 20, 40, "open"),
    ("Negotiation", 30, 70, "open"),
    ("Won", 90, 100, "won"),
    ("Lost", 99, 0, "lost"),
]

STEPS = [
    (1, "Kickoff", 7),
    (2, "Installation", 21),
    (3, "Training", 35),
    (4, "Go-live", 49),
]


def seed(apps, schema_editor):
    Stage = apps.get_model("success", "Stage")
    Template = apps.get_model("success", "OnboardingTemplate")
    Step = apps.get_model("success", "OnboardingTemplateStep")
    for name, order, probability, kind in STAGES:
        Stage.objects.get_or_create(
            name=name, defaults={"order": order, "probability": probability, "kind": kind}
        )
    template, created = Template.objects.get_or_create(
        name="Standard onboarding", defaults={"is_default": True}
    )
    if created:
        for order, title, days in STEPS:
            Step.objects.create(template=template, order=order, title=title, due_after_days=days)


def unseed(apps, schema_editor):
    Template = apps.get_model("success", "OnboardingTemplate")
    Stage = apps.get_model("success", "Stage")
    Template.objects.filter(name="Standard onboarding", plans__isnull=True).delete()
    Stage.objects.filter(name__in=[s[0] for s in STAGES], opportunities__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("success", "0001_leads_opportunities_onboarding")]

    operations = [migrations.RunPython(seed, unseed)]
