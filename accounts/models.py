from typing import ClassVar

from django.contrib.auth.models import AbstractBaseUser, PermissionsMixin
from django.db import models
from django.db.models import F
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.managers import UserManager, normalize_email


class User(AbstractBaseUser, PermissionsMixin):
    """A Cashman user; the email address is the login and is unique whatever its case."""

    email = models.EmailField("email address", max_length=254, unique=True)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    is_staff = models.BooleanField(
        default=False, help_text="Whether the user can sign in to the admin site."
    )
    is_active = models.BooleanField(
        default=True, help_text="Unticking this signs the user out everywhere: tokens stop working."
    )
    date_joined = models.DateTimeField(default=timezone.now)
    token_generation = models.PositiveIntegerField(
        default=0,
        editable=False,
        help_text="Stamped into every JWT; raising it (password change, deactivation) revokes "
        "every token issued before.",
    )
    token_families_revoked_at = models.DateTimeField(
        null=True,
        editable=False,
        help_text="When a token family of this user was last revoked (a refresh token used "
        "twice); only tokens issued before it need checking against RevokedTokenFamily.",
    )
    welcome_email_owed_since = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="Set at sign-up, cleared when the welcome email is taken to be sent; while set, "
        "beat queues it again (accounts.tasks.send_welcome_emails).",
    )
    ledger_generation = models.PositiveBigIntegerField(
        default=0,
        editable=False,
        help_text="Raised in the same database transaction as every write to the user's "
        "transactions or categories; names the cached reads that are still current "
        "(ledger.cached_reads).",
    )

    objects = UserManager()

    #: Changed only by UPDATEs in the database, never written back by save() (the counters, the
    #: time of the last token-family revocation, and whether a welcome email is owed).
    COUNTERS: ClassVar[tuple[str, ...]] = (
        "token_generation",
        "token_families_revoked_at",
        "ledger_generation",
        "welcome_email_owed_since",
    )

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="accounts_user_email_ci_unique",
                violation_error_message="A user with this email address already exists.",
            ),
        ]

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        self.email = normalize_email(self.email)

    def set_unusable_password(self) -> None:
        super().set_unusable_password()
        self._password_disabled = True  # save() revokes the tokens, as for a new password

    def save(self, *args, **kwargs) -> None:
        # set_password() keeps the raw password in `_password` until the save (Django's hook for
        # password_changed); the hash upgrade at a login clears it first. So every real change of
        # an existing user's password, or disabling it, revokes the tokens issued before it,
        # whichever path made it: the API, the admin, `manage.py changepassword`, a shell.
        raw_password = getattr(self, "_password", None)  # AbstractBaseUser's, undeclared in stubs
        disabled = self.__dict__.pop("_password_disabled", False)
        password_changed = (raw_password is not None or disabled) and not self._state.adding
        if not self._state.adding and kwargs.get("update_fields") is None:
            # The counters are raised in the database only (revoke_tokens, ledger.cached_reads): a save
            # from an instance loaded earlier (a form left open, a request's user) must not write
            # back the values it read, undoing a revocation or reviving stale cached reads.
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key and field.name not in self.COUNTERS
            ]
        super().save(*args, **kwargs)
        if password_changed:
            self.revoke_tokens()

    def revoke_tokens(self) -> None:
        """Every JWT issued to this user so far (access and refresh) fails with 401 from now on.

        Tokens carry the generation they were issued in (accounts.tokens); this raises it. The
        increment happens in the database, so two concurrent revocations both count.
        """
        users = type(self).objects.filter(pk=self.pk)
        users.update(token_generation=F("token_generation") + 1)
        self.token_generation = users.values_list("token_generation", flat=True).get()

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self) -> str:
        return self.first_name


class RevokedTokenFamily(models.Model):
    """One login's chain of rotated refresh tokens, all refused because one of them was used
    after it had been rotated or logged out (OAuth 2.0 Security BCP, refresh token rotation)."""

    family = models.CharField(max_length=255, unique=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    revoked_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(
        db_index=True, help_text="When the family's last refresh token expires at the latest."
    )

    def __str__(self) -> str:
        return f"{self.family} (revoked {self.revoked_at:%Y-%m-%d %H:%M})"
