from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone

from accounts import selectors
from accounts.models import User
from cashman_site.celery import dispatch

WELCOME = """Hello{name},

Welcome to Cashman. Your account {email} is ready: record what comes in and what goes out,
and see your balance by month and by category.

The Cashman team
"""


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_welcome_email(user_id: int) -> None:
    """Sent after registration; retried with backoff when the mail server is unreachable. Once
    sent, it is marked so, and never sent again (a crash between the two may send it twice)."""
    user = User.objects.filter(pk=user_id, is_active=True, welcome_email_sent_at=None).first()
    if user is None:
        return
    name = f" {user.first_name}" if user.first_name else ""
    send_mail(
        "Welcome to Cashman",
        WELCOME.format(name=name, email=user.email),
        settings.DEFAULT_FROM_EMAIL,
        [user.email],
    )
    User.objects.filter(pk=user.pk).update(welcome_email_sent_at=timezone.now())


@shared_task
def send_welcome_emails() -> int:
    """Run by Celery beat every minute: queue the welcome emails that the broker could not take
    at sign-up (or whose worker died). Returns how many were queued."""
    waiting = selectors.users_awaiting_welcome(now=timezone.now())
    return sum(dispatch(send_welcome_email, user_id) for user_id in waiting)
