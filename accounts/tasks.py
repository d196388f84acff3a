from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail

from accounts.models import User

WELCOME = """Hello{name},

Welcome to Cashman. Your account {email} is ready: record what comes in and what goes out,
and see your balance by month and by category.

The Cashman team
"""


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_welcome_email(user_id: int) -> None:
    """Sent after registration; retried with backoff when the mail server is unreachable."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return
    name = f" {user.first_name}" if user.first_name else ""
    send_mail(
        "Welcome to Cashman",
        WELCOME.format(name=name, email=user.email),
        settings.DEFAULT_FROM_EMAIL,
        [user.email],
    )
