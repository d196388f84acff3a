"""The welcome email is recorded as owed at sign-up and sent once, even when the broker could not
take it then: beat (or `manage.py send_welcome_emails`) queues what is still owed."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts import tasks
from accounts.models import User
from accounts.tests.factories import UserFactory
from cashman_site.tests.servers import free_port

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-Passphrase-42"


def sign_up(api_client, django_capture_on_commit_callbacks, *, queued: bool) -> User:
    """Register; `queued=False` is a broker that never got the message (nothing runs at commit)."""
    with django_capture_on_commit_callbacks(execute=queued):
        response = api_client.post(
            reverse("auth-register"), {"email": "new@example.com", "password": PASSWORD}
        )
    assert response.status_code == 201
    return User.objects.get(email="new@example.com")


def test_a_sent_email_is_marked_and_never_sent_again(
    api_client, mailoutbox, django_capture_on_commit_callbacks, time_machine
):
    time_machine.move_to(timezone.now(), tick=False)
    user = sign_up(api_client, django_capture_on_commit_callbacks, queued=True)
    assert len(mailoutbox) == 1
    assert user.welcome_email_owed_since is None
    time_machine.shift(datetime.timedelta(minutes=5))
    assert tasks.send_welcome_emails() == 0
    tasks.send_welcome_email(user.pk)  # a second delivery of the first message
    assert len(mailoutbox) == 1


def test_an_email_the_broker_never_got_is_sent_by_beat(
    api_client, mailoutbox, django_capture_on_commit_callbacks, time_machine
):
    time_machine.move_to(timezone.now(), tick=False)
    user = sign_up(api_client, django_capture_on_commit_callbacks, queued=False)
    assert mailoutbox == [] and user.welcome_email_owed_since == timezone.now()
    assert tasks.send_welcome_emails() == 0  # it may still be on its way
    time_machine.shift(datetime.timedelta(seconds=61))
    assert tasks.send_welcome_emails() == 1  # in-process here: queued and sent at once
    assert [mail.to for mail in mailoutbox] == [["new@example.com"]]
    assert tasks.send_welcome_emails() == 0
    assert len(mailoutbox) == 1


def test_the_command_sends_what_is_owed(
    api_client, mailoutbox, django_capture_on_commit_callbacks, time_machine
):
    time_machine.move_to(timezone.now(), tick=False)
    sign_up(api_client, django_capture_on_commit_callbacks, queued=False)
    time_machine.shift(datetime.timedelta(minutes=2))
    out = io.StringIO()
    call_command("send_welcome_emails", stdout=out)
    assert out.getvalue().strip() == "1 welcome email(s) queued."
    assert [mail.to for mail in mailoutbox] == [["new@example.com"]]


def test_accounts_made_otherwise_are_owed_nothing(mailoutbox, time_machine):
    """Staff, the admin, createsuperuser and the demo make accounts without the sign-up."""
    time_machine.move_to(timezone.now(), tick=False)
    UserFactory()
    User.objects.create_superuser(email="admin@example.com", password=PASSWORD)
    time_machine.shift(datetime.timedelta(minutes=2))
    assert tasks.send_welcome_emails() == 0
    assert mailoutbox == []


def test_a_failing_mail_server_leaves_it_owed_for_the_next_minute(
    api_client, mailoutbox, django_capture_on_commit_callbacks, time_machine, settings
):
    time_machine.move_to(timezone.now(), tick=False)
    # SMTP to a loopback port nothing listens on: the connection is refused at once.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    user = sign_up(api_client, django_capture_on_commit_callbacks, queued=True)  # still 201
    assert User.objects.get(pk=user.pk).welcome_email_owed_since == user.date_joined
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    time_machine.shift(datetime.timedelta(seconds=61))
    assert tasks.send_welcome_emails() == 1
    assert [mail.to for mail in mailoutbox] == [["new@example.com"]]


def test_old_and_inactive_accounts_are_not_written_to(
    api_client, mailoutbox, django_capture_on_commit_callbacks, time_machine
):
    time_machine.move_to(timezone.now(), tick=False)
    user = sign_up(api_client, django_capture_on_commit_callbacks, queued=False)
    User.objects.filter(pk=user.pk).update(is_active=False)
    time_machine.shift(datetime.timedelta(minutes=2))
    assert tasks.send_welcome_emails() == 0
    User.objects.filter(pk=user.pk).update(is_active=True)
    time_machine.shift(datetime.timedelta(days=7))
    assert tasks.send_welcome_emails() == 0
    assert mailoutbox == []
