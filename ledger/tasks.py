from celery import shared_task

from ledger.imports import import_run
from ledger.models import ImportJob


@shared_task(acks_late=True)
def run_import(job_id: int) -> str:
    """Import a file uploaded through the API (queued once the upload is committed)."""
    job = ImportJob.objects.select_related("owner").get(pk=job_id)
    if job.status != ImportJob.Status.PENDING:
        return job.status  # delivered twice (acks_late): the first delivery ran it
    return import_run(job=job).status
