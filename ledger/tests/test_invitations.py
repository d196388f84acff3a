"""Invitations into a ledger (issue 22): an owner invites an email address with a role, the email
goes out through the Celery task once the invitation is committed, and the user with that address
(whatever its case) accepts or declines it once, within 7 days. Time is moved with time-machine:
nothing here depends on today's date."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from conftest import bearer
from ledger.choices import Role
from ledger.models import Account, Invitation, Membership
from ledger.services import households
from ledger.tests.factories import SharedLedgerFactory, TransactionFactory, add_member

pytestmark = pytest.mark.django_db

START = datetime.datetime(2031, 5, 1, 12, 0, tzinfo=datetime.UTC)
INVITEE = "friend@example.com"
MINE = reverse("api:invitation-list")
SUMMARY = reverse("api:summary-list")


def client_for(user) -> APIClient:
    """A client with a token issued now (after any move of the clock)."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer(user))
    return client


def invitations_url(ledger) -> str:
    return reverse("api:ledger-invitation-list", kwargs={"ledger_pk": ledger.pk})


def invitation_url(ledger, invitation_id) -> str:
    return reverse(
        "api:ledger-invitation-detail", kwargs={"ledger_pk": ledger.pk, "pk": invitation_id}
    )


def accept_url(invitation_id) -> str:
    return reverse("api:invitation-accept", args=[invitation_id])


def accept_body(invitation_id) -> dict:
    """The token the invitation's email carries (any token, for an id that does not exist)."""
    invitation = Invitation.objects.filter(pk=invitation_id).first()
    return {"token": households.invitation_token(invitation) if invitation else "x" * 40}


def decline_url(invitation_id) -> str:
    return reverse("api:invitation-decline", args=[invitation_id])


def role_of(ledger, user) -> str | None:
    return (
        Membership.objects.filter(ledger=ledger, user=user).values_list("role", flat=True).first()
    )


@pytest.fixture(autouse=True)
def _clock(time_machine):
    time_machine.move_to(START, tick=False)
    return time_machine


@pytest.fixture
def owner(db):
    return UserFactory(email="owner@example.com")


@pytest.fixture
def household(owner):
    ledger = SharedLedgerFactory(owner=owner, name="Maple Street")
    TransactionFactory(
        account=Account.objects.get(ledger=ledger, name="Main"),
        description="rent",
        amount=Decimal("900"),
        date=datetime.date(2031, 4, 30),
    )
    return ledger


@pytest.fixture
def friend(db):
    return UserFactory(email=INVITEE)


@pytest.fixture
def dispatched(monkeypatch):
    """The tasks the invitation service queued, by name (and then run, as dispatch does)."""
    queued = []
    real = households.dispatch

    def spy(task, *args):
        queued.append((task.name, args))
        return real(task, *args)

    monkeypatch.setattr(households, "dispatch", spy)
    return queued


def invite(client, ledger, capture, email=INVITEE, role="editor"):
    with capture(execute=True):
        return client.post(invitations_url(ledger), {"email": email, "role": role}, format="json")


# --- Inviting ----------------------------------------------------------------------------------


class TestInvite:
    def test_an_owner_invites_and_the_email_goes_through_the_task(
        self, owner, household, mailoutbox, dispatched, django_capture_on_commit_callbacks
    ):
        response = invite(client_for(owner), household, django_capture_on_commit_callbacks)

        assert response.status_code == 201
        body = response.json()
        assert body["email"] == INVITEE
        assert body["role"] == "editor"
        assert body["status"] == "pending"
        assert body["ledger"] == household.pk
        assert body["ledger_name"] == "Maple Street"
        invitation = Invitation.objects.get(pk=body["id"])
        assert invitation.invited_by == owner
        assert invitation.created_at == START
        assert invitation.expires_at == START + datetime.timedelta(days=7)
        assert dispatched == [("ledger.tasks.send_invitation_email", (invitation.pk,))]
        assert len(mailoutbox) == 1
        mail = mailoutbox[0]
        assert mail.to == [INVITEE]
        assert "Maple Street" in mail.subject
        assert "Maple Street" in mail.body
        assert f"/api/v1/invitations/{invitation.pk}/accept/" in mail.body
        assert "owner@example.com" in mail.body

    def test_the_email_waits_for_the_commit(
        self, owner, household, mailoutbox, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            response = client_for(owner).post(
                invitations_url(household), {"email": INVITEE, "role": "viewer"}, format="json"
            )
        assert response.status_code == 201
        assert mailoutbox == []
        for callback in callbacks:
            callback()
        assert [mail.to for mail in mailoutbox] == [[INVITEE]]

    @pytest.mark.parametrize("role", [Role.EDITOR, Role.VIEWER])
    def test_an_editor_or_a_viewer_may_not_invite(
        self, household, role, mailoutbox, django_capture_on_commit_callbacks
    ):
        member = UserFactory()
        add_member(household, member, role)

        response = invite(client_for(member), household, django_capture_on_commit_callbacks)

        assert response.status_code == 403
        assert not Invitation.objects.exists()
        assert mailoutbox == []

    def test_a_non_member_gets_404_as_for_no_ledger(
        self, household, mailoutbox, django_capture_on_commit_callbacks
    ):
        stranger = client_for(UserFactory())
        response = invite(stranger, household, django_capture_on_commit_callbacks)
        with django_capture_on_commit_callbacks(execute=True):
            missing = stranger.post(
                reverse("api:ledger-invitation-list", kwargs={"ledger_pk": 999999}),
                {"email": INVITEE, "role": "editor"},
                format="json",
            )
        assert response.status_code == missing.status_code == 404
        assert response.json() == missing.json()
        assert not Invitation.objects.exists()
        assert mailoutbox == []

    @pytest.mark.parametrize("email", ["member@example.com", "MEMBER@Example.com"])
    def test_inviting_a_member_is_409(
        self, owner, household, email, mailoutbox, django_capture_on_commit_callbacks
    ):
        add_member(household, UserFactory(email="member@example.com"), Role.VIEWER)

        response = invite(client_for(owner), household, django_capture_on_commit_callbacks, email)

        assert response.status_code == 409
        assert "detail" in response.json()
        assert not Invitation.objects.exists()
        assert mailoutbox == []

    def test_inviting_the_owner_themselves_is_409(
        self, owner, household, django_capture_on_commit_callbacks
    ):
        response = invite(
            client_for(owner), household, django_capture_on_commit_callbacks, "Owner@Example.com"
        )
        assert response.status_code == 409

    def test_an_address_with_a_pending_invitation_is_409(
        self, owner, household, mailoutbox, django_capture_on_commit_callbacks
    ):
        client = client_for(owner)
        assert invite(client, household, django_capture_on_commit_callbacks).status_code == 201

        again = invite(client, household, django_capture_on_commit_callbacks, "Friend@EXAMPLE.com")

        assert again.status_code == 409
        assert Invitation.objects.count() == 1
        assert len(mailoutbox) == 1

    def test_an_expired_invitation_may_be_sent_again(
        self, owner, household, _clock, django_capture_on_commit_callbacks
    ):
        assert (
            invite(client_for(owner), household, django_capture_on_commit_callbacks).status_code
            == 201
        )
        _clock.move_to(START + datetime.timedelta(days=8), tick=False)

        again = invite(client_for(owner), household, django_capture_on_commit_callbacks)

        assert again.status_code == 201
        assert Invitation.objects.count() == 2


# --- The invitee's side ------------------------------------------------------------------------


@pytest.fixture
def invitation(owner, household, django_capture_on_commit_callbacks):
    response = invite(client_for(owner), household, django_capture_on_commit_callbacks)
    assert response.status_code == 201
    return Invitation.objects.get(pk=response.json()["id"])


class TestTheInvitee:
    def test_sees_it(self, friend, invitation):
        response = client_for(friend).get(MINE)

        assert response.status_code == 200
        rows = response.json()
        assert [row["id"] for row in rows] == [invitation.pk]
        assert rows[0]["ledger_name"] == "Maple Street"
        assert rows[0]["role"] == "editor"
        assert rows[0]["invited_by"] == "owner@example.com"
        detail = client_for(friend).get(reverse("api:invitation-detail", args=[invitation.pk]))
        assert detail.status_code == 200

    def test_another_user_neither_sees_nor_answers_it(self, friend, household, invitation):
        stranger = UserFactory()
        client = client_for(stranger)

        assert client.get(MINE).json() == []
        assert client.get(reverse("api:invitation-detail", args=[invitation.pk])).status_code == 404
        accept = client.post(accept_url(invitation.pk), accept_body(invitation.pk))
        missing = client.post(accept_url(999999), accept_body(999999))
        assert accept.status_code == missing.status_code == 404
        assert accept.json() == missing.json()
        assert client.post(decline_url(invitation.pk)).status_code == 404
        # Nor does the owner who sent it: it is not addressed to them.
        assert (
            client_for(household.memberships.get().user)
            .post(accept_url(invitation.pk), accept_body(invitation.pk))
            .status_code
            == 404
        )
        invitation.refresh_from_db()
        assert invitation.status == Invitation.Status.PENDING
        assert role_of(household, stranger) is None
        # The invitee still can.
        assert (
            client_for(friend)
            .post(accept_url(invitation.pk), accept_body(invitation.pk))
            .status_code
            == 200
        )

    def test_accepting_makes_them_a_member_with_the_role(
        self, friend, household, invitation, ledger_cache
    ):
        client = client_for(friend)
        # Answers cached before joining are not served after it.
        assert client.get(SUMMARY).json()["count"] == 0
        assert client.get(reverse("api:ledger-detail", args=[household.pk])).status_code == 404

        response = client.post(accept_url(invitation.pk), accept_body(invitation.pk))

        assert response.status_code == 200
        assert response.json()["status"] == "accepted"
        assert role_of(household, friend) == Role.EDITOR
        invitation.refresh_from_db()
        assert invitation.status == Invitation.Status.ACCEPTED
        assert invitation.answered_at == START
        ledgers = {
            row["id"]: row for row in client.get(reverse("api:ledger-list")).json()["results"]
        }
        assert ledgers[household.pk]["role"] == "editor"
        rows = client.get(reverse("api:transaction-list"), {"ledger": household.pk})
        assert rows.status_code == 200
        assert [row["description"] for row in rows.json()["results"]] == ["rent"]
        assert client.get(SUMMARY).json()["count"] == 1
        assert client.get(MINE).json() == []

    def test_accepting_twice_is_409(self, friend, household, invitation):
        client = client_for(friend)
        assert client.post(accept_url(invitation.pk), accept_body(invitation.pk)).status_code == 200

        again = client.post(accept_url(invitation.pk), accept_body(invitation.pk))

        assert again.status_code == 409
        assert "detail" in again.json()
        assert Membership.objects.filter(ledger=household, user=friend).count() == 1

    def test_declining(self, friend, household, invitation):
        client = client_for(friend)

        response = client.post(decline_url(invitation.pk))

        assert response.status_code == 200
        assert response.json()["status"] == "declined"
        invitation.refresh_from_db()
        assert invitation.status == Invitation.Status.DECLINED
        assert invitation.answered_at == START
        assert role_of(household, friend) is None
        assert client.get(MINE).json() == []
        assert client.get(reverse("api:ledger-detail", args=[household.pk])).status_code == 404

    def test_a_declined_invitation_cannot_be_accepted(self, friend, household, invitation):
        client = client_for(friend)
        assert client.post(decline_url(invitation.pk)).status_code == 200

        response = client.post(accept_url(invitation.pk), accept_body(invitation.pk))

        assert response.status_code == 409
        assert role_of(household, friend) is None

    def test_still_open_just_before_seven_days(self, friend, household, invitation, _clock):
        _clock.move_to(START + datetime.timedelta(days=7, seconds=-1), tick=False)
        client = client_for(friend)

        assert [row["id"] for row in client.get(MINE).json()] == [invitation.pk]
        assert client.post(accept_url(invitation.pk), accept_body(invitation.pk)).status_code == 200
        assert role_of(household, friend) == Role.EDITOR

    @pytest.mark.parametrize("after", [datetime.timedelta(days=7), datetime.timedelta(days=30)])
    def test_expired_after_seven_days(self, friend, owner, household, invitation, _clock, after):
        _clock.move_to(START + after, tick=False)
        client = client_for(friend)

        assert client.get(MINE).json() == []
        accept = client.post(accept_url(invitation.pk), accept_body(invitation.pk))
        assert accept.status_code == 409
        assert "expired" in accept.json()["detail"]
        assert role_of(household, friend) is None
        invitation.refresh_from_db()
        assert invitation.status == Invitation.Status.PENDING
        # Nor is it pending for the owner any more.
        assert client_for(owner).get(invitations_url(household)).json() == []

    def test_expired_cannot_be_declined_either(self, friend, invitation, _clock):
        _clock.move_to(START + datetime.timedelta(days=8), tick=False)
        response = client_for(friend).post(decline_url(invitation.pk))
        assert response.status_code == 409
        invitation.refresh_from_db()
        assert invitation.status == Invitation.Status.PENDING


class TestEmailCase:
    def test_an_invitation_in_another_case_is_the_users(
        self, owner, household, django_capture_on_commit_callbacks
    ):
        response = invite(
            client_for(owner), household, django_capture_on_commit_callbacks, "Friend@Example.COM"
        )
        assert response.status_code == 201
        friend = UserFactory(email=INVITEE)
        client = client_for(friend)

        assert [row["id"] for row in client.get(MINE).json()] == [response.json()["id"]]
        assert (
            client.post(
                accept_url(response.json()["id"]), accept_body(response.json()["id"])
            ).status_code
            == 200
        )
        assert role_of(household, friend) == Role.EDITOR

    def test_an_address_stored_in_another_case_matches_too(self, owner, household):
        # As an older row, or another path, may have stored it.
        invitation = Invitation.objects.create(
            ledger=household, email="Friend@Example.COM", role=Role.VIEWER, invited_by=owner
        )
        friend = UserFactory(email=INVITEE)
        client = client_for(friend)

        assert [row["id"] for row in client.get(MINE).json()] == [invitation.pk]
        assert client.post(accept_url(invitation.pk), accept_body(invitation.pk)).status_code == 200
        assert role_of(household, friend) == Role.VIEWER


# --- The owner's side --------------------------------------------------------------------------


class TestPendingInvitations:
    def test_the_owner_lists_the_pending_ones(
        self, owner, household, _clock, django_capture_on_commit_callbacks
    ):
        client = client_for(owner)
        ids = {}
        for email in ("a@example.com", "b@example.com", "c@example.com", "d@example.com"):
            response = invite(client, household, django_capture_on_commit_callbacks, email)
            ids[email] = response.json()["id"]
        assert (
            client_for(UserFactory(email="b@example.com"))
            .post(accept_url(ids["b@example.com"]), accept_body(ids["b@example.com"]))
            .status_code
            == 200
        )
        assert (
            client_for(UserFactory(email="c@example.com"))
            .post(decline_url(ids["c@example.com"]))
            .status_code
            == 200
        )
        # Another ledger's invitation is not this one's.
        elsewhere = SharedLedgerFactory(owner=owner, name="Elsewhere")
        invite(client, elsewhere, django_capture_on_commit_callbacks, "e@example.com")

        response = client.get(invitations_url(household))

        assert response.status_code == 200
        assert {row["id"] for row in response.json()} == {
            ids["a@example.com"],
            ids["d@example.com"],
        }

    @pytest.mark.parametrize("role", [Role.EDITOR, Role.VIEWER])
    def test_an_editor_or_a_viewer_may_not_list_them(self, household, invitation, role):
        member = UserFactory()
        add_member(household, member, role)
        assert client_for(member).get(invitations_url(household)).status_code == 403

    def test_the_owner_withdraws_one(self, owner, friend, household, invitation):
        response = client_for(owner).delete(invitation_url(household, invitation.pk))

        assert response.status_code == 204
        assert not Invitation.objects.filter(pk=invitation.pk).exists()
        assert client_for(owner).get(invitations_url(household)).json() == []
        client = client_for(friend)
        assert client.get(MINE).json() == []
        assert client.post(accept_url(invitation.pk), accept_body(invitation.pk)).status_code == 404
        assert role_of(household, friend) is None

    @pytest.mark.parametrize("role", [Role.EDITOR, Role.VIEWER])
    def test_an_editor_or_a_viewer_may_not_withdraw_one(self, household, invitation, role):
        member = UserFactory()
        add_member(household, member, role)

        response = client_for(member).delete(invitation_url(household, invitation.pk))

        assert response.status_code == 403
        assert Invitation.objects.filter(pk=invitation.pk).exists()

    def test_another_ledgers_invitation_is_404_under_this_one(self, owner, household, invitation):
        elsewhere = SharedLedgerFactory(owner=owner, name="Elsewhere")
        response = client_for(owner).delete(invitation_url(elsewhere, invitation.pk))
        assert response.status_code == 404
        assert Invitation.objects.filter(pk=invitation.pk).exists()

    def test_a_non_member_gets_404(self, household, invitation):
        stranger = client_for(UserFactory())
        listed = stranger.get(invitations_url(household))
        withdrawn = stranger.delete(invitation_url(household, invitation.pk))
        missing = stranger.get(reverse("api:ledger-invitation-list", kwargs={"ledger_pk": 999999}))
        assert listed.status_code == withdrawn.status_code == missing.status_code == 404
        assert listed.json() == withdrawn.json() == missing.json()
        assert Invitation.objects.filter(pk=invitation.pk).exists()


class TestToken:
    """Accepting takes the token the email carried: an account that only claims the address (an
    unverified sign-up, a profile email changed to it) cannot join."""

    def test_the_emails_token_accepts(
        self, owner, household, django_capture_on_commit_callbacks, mailoutbox
    ):
        with django_capture_on_commit_callbacks(execute=True):
            created = client_for(owner).post(
                invitations_url(household), {"email": INVITEE, "role": Role.EDITOR}, format="json"
            )
        [mail] = mailoutbox
        token = mail.body.split('"token": "')[1].split('"')[0]
        friend = UserFactory(email=INVITEE)
        accepted = client_for(friend).post(
            accept_url(created.json()["id"]), {"token": token}, format="json"
        )
        assert accepted.status_code == 200
        assert role_of(household, friend) == Role.EDITOR

    @pytest.mark.parametrize("body", [{}, {"token": ""}, {"token": "0" * 40}])
    def test_without_the_token_nobody_joins(self, owner, household, body):
        invitation = households.invitation_create(
            ledger=household, actor=owner, email=INVITEE, role=Role.EDITOR
        )
        friend = UserFactory(email=INVITEE)
        refused = client_for(friend).post(accept_url(invitation.pk), body, format="json")
        assert refused.status_code == 400
        assert "token" in refused.json()
        assert role_of(household, friend) is None
        invitation.refresh_from_db()
        assert invitation.status == Invitation.Status.PENDING

    def test_a_profile_email_changed_to_the_address_is_not_enough(self, owner, household):
        invitation = households.invitation_create(
            ledger=household, actor=owner, email=INVITEE, role=Role.EDITOR
        )
        mallory = UserFactory(email="mallory@example.com")
        client = client_for(mallory)
        assert (
            client.patch("/api/v1/auth/me/", {"email": INVITEE}, format="json").status_code == 200
        )
        guessed = client.post(accept_url(invitation.pk), {"token": "f" * 40}, format="json")
        assert guessed.status_code == 400
        assert role_of(household, mallory) is None


def test_a_ledger_name_with_a_line_break_still_gets_its_email(
    owner, django_capture_on_commit_callbacks, mailoutbox
):
    """A header holds no line break: the subject puts the name on one line."""
    ledger = SharedLedgerFactory(owner=owner, name="Maple\nStreet")
    with django_capture_on_commit_callbacks(execute=True):
        created = client_for(owner).post(
            invitations_url(ledger), {"email": INVITEE, "role": Role.VIEWER}, format="json"
        )
    assert created.status_code == 201
    [mail] = mailoutbox
    assert mail.subject == 'Join "Maple Street" on Cashman'
