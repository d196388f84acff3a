from django.apps import AppConfig


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"

    def ready(self) -> None:
        # Counts failed logins per account (the `user_login_failed` receiver).
        from accounts import throttling  # noqa: F401
