from django.core.management.base import BaseCommand

from accounts import tasks


class Command(BaseCommand):
    help = (
        "Queue the welcome emails the broker could not take at sign-up (what Celery beat runs "
        "every minute; for cron). Without a broker they are sent here."
    )

    def handle(self, *args, **options):
        self.stdout.write(f"{tasks.send_welcome_emails()} welcome email(s) queued.")
