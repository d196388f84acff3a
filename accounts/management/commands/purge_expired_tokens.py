"""Delete expired refresh-token records; run it daily (cron, a Kubernetes CronJob, systemd timer).

The same as simplejwt's `flushexpiredtokens`, through Cashman's service layer and saying how many
went. Without it the outstanding and blacklisted token tables grow by a row a login and a refresh.
"""

from django.core.management.base import BaseCommand
from django.utils import timezone

from accounts.services import tokens_purge_expired


class Command(BaseCommand):
    help = "Delete expired refresh tokens (and their blacklist entries). Run daily."

    def handle(self, *args: object, **options: object) -> None:
        deleted = tokens_purge_expired(now=timezone.now())
        self.stdout.write(f"Deleted {deleted} expired refresh token(s).")
