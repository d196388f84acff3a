from django.core.management.base import BaseCommand

from ledger.services.schedules import schedules_post_due


class Command(BaseCommand):
    help = (
        "Post every schedule's occurrences that are due, and those missed while nothing ran "
        "(what Celery beat runs; for cron). Safe to run at any time, as often and as many at once "
        "as you like: an occurrence is posted once."
    )

    def handle(self, *args, **options):
        posted = schedules_post_due()
        self.stdout.write(f"{posted} transaction(s) posted.")
