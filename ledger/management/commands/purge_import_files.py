import datetime
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from ledger.models import ImportJob


class Command(BaseCommand):
    help = (
        "Delete uploaded import files that no unfinished job needs: those of ended jobs, and "
        "files in MEDIA_ROOT/imports/ that no job names and older than --hours (default 24: an "
        "upload being saved has no job yet). A job deletes its own file when it ends; this sweeps "
        "what was left before that, or by a job whose worker died. For cron."
    )

    def add_arguments(self, parser):
        parser.add_argument("--hours", type=int, default=24, help="Keep unnamed files this young.")

    def handle(self, *args, hours: int, **options):
        unfinished = [ImportJob.Status.PENDING, ImportJob.Status.RUNNING]
        deleted = freed = 0
        for job in ImportJob.objects.exclude(status__in=unfinished).exclude(file="").iterator():
            if job.file.storage.exists(job.file.name):
                freed += job.file.size
                deleted += 1
            job.file.delete(save=False)
            job.save(update_fields=["file"])
        named = set(ImportJob.objects.exclude(file="").values_list("file", flat=True))
        root = Path(settings.MEDIA_ROOT)
        folder = root / "imports"
        cutoff = (timezone.now() - datetime.timedelta(hours=hours)).timestamp()
        for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
            name = path.relative_to(root).as_posix()
            if path.is_file() and name not in named and path.stat().st_mtime < cutoff:
                freed += path.stat().st_size
                path.unlink()
                deleted += 1
        self.stdout.write(f"Deleted {deleted} file(s), {freed} bytes.")
