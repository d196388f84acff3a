"""The email that carries an invitation into a ledger."""

import logging

from django.conf import settings
from django.core.mail import send_mail

from ledger.models import Invitation
from ledger.services.households import invitation_token

logger = logging.getLogger("cashman.ledger")

INVITATION = """Hello,

{inviter} invites you to the ledger "{ledger}" on Cashman, as {role}.

Sign in (or sign up) with this address, {email}, then accept it with this token:
POST /api/v1/invitations/{id}/accept/ {{"token": "{token}"}}
(or decline it: POST /api/v1/invitations/{id}/decline/).
It can be answered until {expires:%Y-%m-%d %H:%M} UTC.

The Cashman team
"""


def send_invitation(invitation_id: int) -> bool:
    invitation = (
        Invitation.objects.select_related("ledger", "invited_by")
        .filter(pk=invitation_id, status=Invitation.Status.PENDING)
        .first()
    )
    if invitation is None or invitation.expired:
        return False
    inviter = invitation.invited_by.email if invitation.invited_by else "An owner"
    body = INVITATION.format(
        inviter=inviter,
        ledger=invitation.ledger.name,
        role=invitation.get_role_display().lower(),
        email=invitation.email,
        id=invitation.pk,
        token=invitation_token(invitation),
        expires=invitation.expires_at,
    )
    try:
        send_mail(
            # One line: a header may hold no line break, whatever the ledger's name holds.
            f'Join "{" ".join(invitation.ledger.name.split())}" on Cashman',
            body,
            settings.DEFAULT_FROM_EMAIL,
            [invitation.email],
        )
    except OSError as exc:  # smtplib's errors, refused connections and timeouts alike
        logger.warning("invitation %s was not emailed: %s", invitation_id, exc)
        return False
    return True
