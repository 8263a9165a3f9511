from django.apps import AppConfig


class ProjectConfig(AppConfig):
    name = "retainer.project"
    label = "project"
    verbose_name = "Project"
