import datetime

from django.core.management.base import BaseCommand, CommandError

from ledger.services.idempotency import idempotency_keys_purge


class Command(BaseCommand):
    help = "Delete stored Idempotency-Key answers older than --hours (default 24). Run daily."

    def add_arguments(self, parser):
        parser.add_argument("--hours", type=int, default=24)

    def handle(self, *args, hours: int, **options):
        if hours < 24:
            raise CommandError("Keys are promised to clients for at least 24 hours.")
        deleted = idempotency_keys_purge(older_than=datetime.timedelta(hours=hours))
        self.stdout.write(f"Deleted {deleted} idempotency keys older than {hours} hours.")
