import logging

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone

from accounts import selectors
from accounts.models import User
from cashman_site.celery import dispatch

logger = logging.getLogger("cashman.accounts")

WELCOME = """Hello{name},

Welcome to Cashman. Your account {email} is ready: record what comes in and what goes out,
and see your balance by month and by category.

The Cashman team
"""


@shared_task
def send_welcome_email(user_id: int) -> None:
    """Sent once after registration. The email is claimed (no longer owed) before it is sent, so
    two deliveries of the message never both send it; if the mail server fails, it is owed again
    and beat tries it again a minute later, for WELCOME_EMAIL_DAYS. A worker killed between the
    claim and the send loses it: a welcome email is not worth sending twice for."""
    owed = User.objects.filter(pk=user_id, is_active=True, welcome_email_owed_since__isnull=False)
    since = owed.values_list("welcome_email_owed_since", flat=True).first()
    if since is None or not owed.filter(welcome_email_owed_since=since).update(
        welcome_email_owed_since=None
    ):
        return
    user = User.objects.get(pk=user_id)
    name = f" {user.first_name}" if user.first_name else ""
    try:
        send_mail(
            "Welcome to Cashman",
            WELCOME.format(name=name, email=user.email),
            settings.DEFAULT_FROM_EMAIL,
            [user.email],
        )
    except OSError as exc:  # smtplib's errors, refused connections and timeouts alike
        User.objects.filter(pk=user_id).update(welcome_email_owed_since=since)
        logger.warning(
            "the welcome email of user %s was not sent, tried again later: %s", user_id, exc
        )


@shared_task
def send_welcome_emails() -> int:
    """Run by Celery beat every minute: queue the welcome emails that the broker could not take
    at sign-up (or whose worker died). Returns how many were queued."""
    waiting = selectors.users_awaiting_welcome(now=timezone.now())
    return sum(dispatch(send_welcome_email, user_id) for user_id in waiting)
