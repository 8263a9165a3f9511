from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "retainer.mail"
    label = "mail"
    verbose_name = "E-mail"
