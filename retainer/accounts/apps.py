from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "retainer.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from retainer.accounts import events  # noqa: F401 - registers the event types for parse()
        from retainer.accounts.roles import sync_role_groups_after_migrate

        # Role groups are configuration, kept in code; every migrate brings them in line.
        post_migrate.connect(sync_role_groups_after_migrate, dispatch_uid="retainer-role-groups")
