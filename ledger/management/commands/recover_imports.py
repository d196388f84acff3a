from django.core.management.base import BaseCommand

from ledger import imports, tasks


class Command(BaseCommand):
    help = (
        "Queue again the imports whose worker died and the pending ones whose message was lost "
        "(what Celery beat runs every minute; for cron). Without a broker they run here."
    )

    def handle(self, *args, **options):
        waiting = imports.import_recover()
        queued = tasks.recover_imports()
        self.stdout.write(f"{len(waiting)} import(s) to recover, {queued} queued.")
