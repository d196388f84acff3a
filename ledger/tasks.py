from celery import shared_task

from cashman_site.celery import dispatch
from ledger import households_mail, imports
from ledger.services import schedules


@shared_task(acks_late=True)
def run_import(job_id: int) -> str:
    """Import (or resume) a file uploaded through the API, once claimed: a second delivery of the
    message, or a second worker, finds the job taken and does nothing."""
    job = imports.import_claim(job_id=job_id)
    if job is None:
        return "not claimed"
    return imports.import_run(job=job).status


@shared_task
def recover_imports() -> int:
    """Run by Celery beat every minute: queue again the imports whose worker died and the pending
    ones whose message was lost. Returns how many were queued."""
    return sum(dispatch(run_import, job_id) for job_id in imports.import_recover())


@shared_task
def send_invitation_email(invitation_id: int) -> bool:
    """Email an invitation to its address, once it is committed. Returns whether it was sent: a
    mail server that fails is logged, and an owner can withdraw the invitation and invite the
    address again."""
    return households_mail.send_invitation(invitation_id)


@shared_task
def post_schedules() -> int:
    """Run by Celery beat (every CASHMAN_SCHEDULES_SECONDS): post the schedules' due occurrences.
    Any number of these may run at once: each occurrence is posted once. Returns how many."""
    return schedules.schedules_post_due()
