import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import UserFactory
from ledger.choices import Role, TransactionType
from ledger.models import Account, Ledger, Membership, Transaction
from ledger.tests.factories import (
    AccountFactory,
    CategoryFactory,
    SharedLedgerFactory,
    TransactionFactory,
    add_member,
    main_account,
    personal_ledger,
)

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:ledger_transaction_changelist")
LEDGERS = reverse("admin:ledger_ledger_changelist")


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def household(other_user):
    """A shared ledger of `other_user`'s, with an account named to be searched for."""
    ledger = SharedLedgerFactory(owner=other_user, name="Smith household")
    AccountFactory(ledger=ledger, name="Joint card")
    return ledger


@pytest.fixture
def rows(user, other_user, household):
    return [
        TransactionFactory(owner=user, description="Coffee beans", amount=Decimal("12.50")),
        TransactionFactory(
            owner=user, type=TransactionType.INCOME, description="Salary", amount=Decimal("3000")
        ),
        TransactionFactory(
            account=household.accounts.get(name="Joint card"),
            created_by=other_user,
            description="Coffee cup",
            amount=Decimal("2.25"),
        ),
    ]


def test_changelist_shows_every_users_rows_with_totals(admin_client, rows):
    response = admin_client.get(CHANGELIST)
    assert response.status_code == 200
    content = response.content.decode()
    for tx in rows:
        assert tx.description in content
    totals = response.context["totals"]
    assert totals == {
        "income": Decimal("3000.00"),
        "expense": Decimal("-14.75"),
        "transfers_in": Decimal("0.00"),
        "transfers_out": Decimal("0.00"),
        "balance": Decimal("2985.25"),
        "count": 3,
    }
    assert 'id="ledger-totals"' in content


def test_search_by_description_ledger_and_account_and_totals_follow(admin_client, rows):
    response = admin_client.get(CHANGELIST, {"q": "coffee"})
    assert response.context["totals"]["count"] == 2
    for q in ("Smith household", "Joint card"):
        response = admin_client.get(CHANGELIST, {"q": q})
        content = response.content.decode()
        assert "Coffee cup" in content and "Coffee beans" not in content
        assert response.context["totals"]["expense"] == Decimal("-2.25")


def test_filter_by_type_ledger_and_date_hierarchy(admin_client, rows, household):
    response = admin_client.get(CHANGELIST, {"type__exact": "INCOME"})
    assert response.context["totals"]["count"] == 1
    response = admin_client.get(CHANGELIST, {"ledger__id__exact": household.pk})
    assert response.context["totals"]["count"] == 1
    response = admin_client.get(CHANGELIST, {"date__year": "2026", "date__month": "11"})
    assert response.status_code == 200


def test_changelist_query_count_does_not_grow_with_rows(
    admin_client, user, django_assert_max_num_queries
):
    category = CategoryFactory(owner=user)
    for _ in range(60):
        TransactionFactory(owner=user, category=category)
    with django_assert_max_num_queries(14):
        assert admin_client.get(CHANGELIST).status_code == 200


def test_csv_export_action(admin_client, rows):
    response = admin_client.post(
        CHANGELIST, {"action": "export_csv", "_selected_action": [rows[0].pk, rows[1].pk]}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0] == ("id,ledger,account,date,type,description,amount,category,status,created_at")
    assert len(lines) == 3
    assert any(
        ",Personal,Main,2026-11-01,EXPENSE,Coffee beans,-12.50,,pending," in line for line in lines
    )


def add_form(account: Account, **fields) -> dict:
    return {
        "account": account.pk,
        "type": "EXPENSE",
        "description": "Admin typed",
        "amount": "40",
        "date": "2026-11-02",
        "status": "pending",
        **fields,
    }


def test_adding_an_expense_in_the_admin_stores_it_negative(admin_client, user):
    response = admin_client.post(
        reverse("admin:ledger_transaction_add"), add_form(main_account(user))
    )
    assert response.status_code == 302, response.content
    tx = Transaction.objects.get(description="Admin typed")
    assert tx.amount == Decimal("-40.00")
    assert tx.ledger == personal_ledger(user)


def test_admin_refuses_a_category_of_another_ledger(admin_client, user, other_user):
    theirs = CategoryFactory(owner=other_user)
    response = admin_client.post(
        reverse("admin:ledger_transaction_add"),
        add_form(main_account(user), description="Wrong cat", amount="5", category=theirs.pk),
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert not Transaction.objects.filter(description="Wrong cat").exists()


def test_admin_refuses_a_negative_income(admin_client, user):
    response = admin_client.post(
        reverse("admin:ledger_transaction_add"),
        add_form(main_account(user), type="INCOME", description="Bad", amount="-5"),
    )
    assert response.status_code == 200
    assert not Transaction.objects.exists()


def test_category_admin_changelist(admin_client, user):
    CategoryFactory(owner=user, name="Groceries")
    response = admin_client.get(reverse("admin:ledger_category_changelist"), {"q": "groc"})
    assert "Groceries" in response.content.decode()


def test_a_category_stays_in_its_ledger(admin_client, user, other_user):
    """Its transactions, budgets and schedules are in its ledger: the change form shows the
    ledger and does not take another."""
    category = CategoryFactory(owner=user, name="Groceries")
    page = reverse("admin:ledger_category_change", args=[category.pk])
    response = admin_client.post(
        page, {"name": "Food", "ledger": main_account(other_user).ledger_id, "rollover": "on"}
    )
    assert response.status_code == 302
    category.refresh_from_db()
    assert (category.name, category.rollover, category.ledger) == (
        "Food",
        True,
        main_account(user).ledger,
    )


def test_transaction_change_page_renders(admin_client, rows):
    response = admin_client.get(reverse("admin:ledger_transaction_change", args=[rows[0].pk]))
    assert response.status_code == 200
    assert response.context["original"].date == datetime.date(2026, 11, 1)


def test_import_jobs_are_listed_for_staff(admin_client, user):
    from django.core.files.base import ContentFile

    from ledger.models import ImportJob

    ImportJob.objects.create(
        owner=user,
        account=main_account(user),
        file=ContentFile(b"x", name="a.csv"),
        filename="statement-2026.csv",
        format="csv",
    )
    response = admin_client.get(reverse("admin:ledger_importjob_changelist"), {"q": "statement"})
    assert "statement-2026.csv" in response.content.decode()


def generations(*users) -> list[int]:
    return [User.objects.get(pk=u.pk).ledger_generation for u in users]


def test_admin_writes_end_the_members_cached_answers(admin_client, user, other_user, rows):
    """The admin writes through the services: a change, a move to another ledger's account, a
    bulk delete and a category's delete each end the cached answers of every member of every
    ledger they touch."""
    coffee = rows[0]
    before = generations(user, other_user)
    response = admin_client.post(
        reverse("admin:ledger_transaction_change", args=[coffee.pk]),
        add_form(main_account(other_user), description="Moved", amount="12.50", date="2026-11-01"),
    )
    assert response.status_code == 302, response.content
    moved = generations(user, other_user)
    assert moved[0] > before[0] and moved[1] > before[1]

    response = admin_client.post(
        CHANGELIST,
        {"action": "delete_selected", "_selected_action": [rows[1].pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not Transaction.objects.filter(pk=rows[1].pk).exists()
    assert Transaction.history.filter(id=rows[1].pk, history_type="-").exists()
    deleted = generations(user, other_user)
    assert deleted[0] > moved[0] and deleted[1] == moved[1]

    food = CategoryFactory(owner=user, name="Food")
    after_create = generations(user)[0]
    response = admin_client.post(
        reverse("admin:ledger_category_delete", args=[food.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert generations(user)[0] > after_create


def test_saving_a_transaction_moves_it_with_its_accounts_ledger(
    admin_client, user, other_user, household
):
    tx = TransactionFactory(owner=user, description="Groceries")
    joint = household.accounts.get(name="Joint card")
    response = admin_client.post(
        reverse("admin:ledger_transaction_change", args=[tx.pk]),
        add_form(joint, description="Groceries", amount="10", date="2026-11-01"),
    )
    assert response.status_code == 302, response.content
    tx.refresh_from_db()
    assert (tx.account, tx.ledger) == (joint, household)
    assert Transaction.history.filter(id=tx.pk).latest("history_id").ledger_id == household.pk


# Ledgers, their members and accounts.


def ledger_form(ledger: Ledger, *, members=None, accounts=None, **fields) -> dict:
    """The change form of a ledger as the admin posts it: `members` maps each membership to
    its role (None: deleted); `accounts` are posted unchanged."""
    members = {m: m.role for m in ledger.memberships.all()} if members is None else members
    accounts = list(ledger.accounts.all()) if accounts is None else accounts
    data = {
        "name": ledger.name,
        "personal_for": ledger.personal_for_id or "",
        "memberships-TOTAL_FORMS": len(members),
        "memberships-INITIAL_FORMS": len(members),
        "memberships-MIN_NUM_FORMS": 0,
        "memberships-MAX_NUM_FORMS": 1000,
        "accounts-TOTAL_FORMS": len(accounts),
        "accounts-INITIAL_FORMS": len(accounts),
        "accounts-MIN_NUM_FORMS": 0,
        "accounts-MAX_NUM_FORMS": 1000,
        **fields,
    }
    for i, (membership, role) in enumerate(members.items()):
        data |= {
            f"memberships-{i}-id": membership.pk,
            f"memberships-{i}-ledger": ledger.pk,
            f"memberships-{i}-user": membership.user_id,
            f"memberships-{i}-role": role or membership.role,
        }
        if role is None:
            data[f"memberships-{i}-DELETE"] = "on"
    for i, account in enumerate(accounts):
        data |= {
            f"accounts-{i}-id": account.pk,
            f"accounts-{i}-ledger": ledger.pk,
            f"accounts-{i}-name": account.name,
            f"accounts-{i}-kind": account.kind,
            f"accounts-{i}-opening_balance": str(account.opening_balance),
            f"accounts-{i}-opening_date": account.opening_date.isoformat(),
        }
        if account.archived:
            data[f"accounts-{i}-archived"] = "on"
    return data


def change_ledger(client, ledger: Ledger, **kwargs):
    return client.post(
        reverse("admin:ledger_ledger_change", args=[ledger.pk]), ledger_form(ledger, **kwargs)
    )


def test_staff_list_ledgers_and_see_their_members_and_accounts(
    admin_client, user, other_user, household
):
    add_member(household, user, Role.VIEWER)
    response = admin_client.get(LEDGERS)
    assert response.status_code == 200
    listed = {ledger.pk for ledger in response.context["cl"].result_list}
    assert {household.pk, personal_ledger(user).pk, personal_ledger(other_user).pk} <= listed
    assert "Smith household" in response.content.decode()

    response = admin_client.get(LEDGERS, {"q": user.email})
    assert {ledger.pk for ledger in response.context["cl"].result_list} == {
        household.pk,
        personal_ledger(user).pk,
    }

    response = admin_client.get(reverse("admin:ledger_ledger_change", args=[household.pk]))
    assert response.status_code == 200
    inlines = {f.formset.prefix: f.formset for f in response.context["inline_admin_formsets"]}
    members = {form.instance.user_id: form.instance.role for form in inlines["memberships"]}
    assert members == {other_user.pk: Role.OWNER, user.pk: Role.VIEWER}
    accounts = sorted(form.instance.name for form in inlines["accounts"])
    assert accounts == ["Joint card", "Main"]
    content = response.content.decode()
    assert user.email in content and "Joint card" in content


def test_staff_change_a_ledger_its_members_and_accounts(admin_client, user, other_user, household):
    membership = add_member(household, user, Role.VIEWER)
    joint = household.accounts.get(name="Joint card")
    joint.name = "Joint credit card"
    data = ledger_form(
        household,
        members={household.memberships.get(user=other_user): Role.OWNER, membership: Role.EDITOR},
        accounts=[joint],
        name="Smiths",
    )
    data["accounts-INITIAL_FORMS"] = 1
    response = admin_client.post(reverse("admin:ledger_ledger_change", args=[household.pk]), data)
    assert response.status_code == 302, response.content
    household.refresh_from_db()
    assert household.name == "Smiths"
    assert Membership.objects.get(pk=membership.pk).role == Role.EDITOR
    assert household.accounts.get(pk=joint.pk).name == "Joint credit card"


def test_an_admin_save_of_a_ledger_gives_it_a_new_version(admin_client, household):
    """As the admin's saves of transactions, categories and accounts do: an ETag read before
    the change no longer matches."""
    response = change_ledger(admin_client, household, name="Smiths")
    assert response.status_code == 302, response.content
    household.refresh_from_db()
    assert (household.name, household.version) == ("Smiths", 2)


def test_removing_the_last_owner_in_the_inline_is_refused(
    admin_client, user, other_user, household
):
    membership = add_member(household, user, Role.EDITOR)
    owner = household.memberships.get(user=other_user)
    for members in (
        {owner: None, membership: Role.EDITOR},  # deleted
        {owner: Role.VIEWER, membership: Role.EDITOR},  # demoted
    ):
        response = change_ledger(admin_client, household, members=members)
        assert response.status_code == 200
        errors = [
            str(e)
            for f in response.context["inline_admin_formsets"]
            for e in f.formset.non_form_errors()
        ]
        assert "A ledger keeps at least one owner." in errors
        assert set(household.memberships.values_list("user_id", "role")) == {
            (other_user.pk, Role.OWNER),
            (user.pk, Role.EDITOR),
        }
    # Handing the ledger over is fine: another owner first, in the same save.
    response = change_ledger(admin_client, household, members={owner: None, membership: Role.OWNER})
    assert response.status_code == 302, response.content
    assert set(household.memberships.values_list("user_id", "role")) == {(user.pk, Role.OWNER)}


def test_a_personal_ledgers_own_user_stays_its_owner(admin_client, user, other_user):
    ledger = personal_ledger(user)
    guest = add_member(ledger, other_user, Role.OWNER)
    own = ledger.memberships.get(user=user)
    response = change_ledger(admin_client, ledger, members={own: Role.EDITOR, guest: Role.OWNER})
    assert response.status_code == 200
    errors = [
        str(e)
        for f in response.context["inline_admin_formsets"]
        for e in f.formset.non_form_errors()
    ]
    assert "A personal ledger's own user stays its owner." in errors
    assert ledger.memberships.get(user=user).role == Role.OWNER


def test_a_personal_ledger_has_no_delete_permission(admin_client, user, other_user, household):
    ledger = personal_ledger(user)
    response = admin_client.get(reverse("admin:ledger_ledger_change", args=[ledger.pk]))
    assert response.context["show_delete_link"] is False
    response = admin_client.post(
        reverse("admin:ledger_ledger_delete", args=[ledger.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    response = admin_client.post(
        reverse("admin:ledger_ledger_changelist"),
        {"action": "delete_selected", "_selected_action": [ledger.pk, household.pk], "post": "yes"},
    )
    assert response.status_code == 403
    assert Ledger.objects.filter(pk__in=[ledger.pk, household.pk]).count() == 2

    # A shared one can go, with what is in it.
    TransactionFactory(account=household.accounts.get(name="Joint card"))
    response = admin_client.get(reverse("admin:ledger_ledger_change", args=[household.pk]))
    assert response.context["has_delete_permission"] is True
    before = generations(other_user)[0]
    response = admin_client.post(
        reverse("admin:ledger_ledger_delete", args=[household.pk]), {"post": "yes"}
    )
    assert response.status_code == 302, response.content
    assert not Ledger.objects.filter(pk=household.pk).exists()
    assert not Transaction.objects.filter(ledger=household.pk).exists()
    assert generations(other_user)[0] > before


def test_staff_delete_a_user_with_their_personal_ledger(admin_client, user, household):
    ledger = personal_ledger(user)
    TransactionFactory(owner=user)
    response = admin_client.post(
        reverse("admin:accounts_user_delete", args=[user.pk]), {"post": "yes"}
    )
    assert response.status_code == 302, response.content
    assert not Ledger.objects.filter(pk=ledger.pk).exists()
    assert not Transaction.objects.filter(ledger=ledger.pk).exists()


def test_changing_a_membership_raises_the_members_generation(
    admin_client, user, other_user, household
):
    outsider = UserFactory()
    membership = add_member(household, user, Role.VIEWER)
    owner = household.memberships.get(user=other_user)
    before = generations(user, outsider)
    response = change_ledger(
        admin_client, household, members={owner: Role.OWNER, membership: Role.EDITOR}
    )
    assert response.status_code == 302, response.content
    assert Membership.objects.get(pk=membership.pk).role == Role.EDITOR
    after = generations(user, outsider)
    assert after[0] > before[0] and after[1] == before[1]

    response = change_ledger(admin_client, household, members={owner: Role.OWNER, membership: None})
    assert response.status_code == 302, response.content
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert generations(user)[0] > after[0]


def test_account_admin_lists_and_changes_accounts(admin_client, user, household):
    response = admin_client.get(reverse("admin:ledger_account_changelist"), {"q": "joint"})
    assert response.status_code == 200
    assert [a.name for a in response.context["cl"].result_list] == ["Joint card"]
    joint = household.accounts.get(name="Joint card")
    response = admin_client.get(reverse("admin:ledger_account_change", args=[joint.pk]))
    assert response.status_code == 200
    assert "ledger" not in response.context["adminform"].form.fields  # it stays in its ledger
    response = admin_client.post(
        reverse("admin:ledger_account_change", args=[joint.pk]),
        {
            "name": "Joint card",
            "kind": "credit_card",
            "opening_balance": "-100.00",
            "opening_date": "2026-01-01",
            "archived": "on",
        },
    )
    assert response.status_code == 302, response.content
    joint.refresh_from_db()
    assert (joint.kind, joint.opening_balance, joint.archived, joint.ledger) == (
        "credit_card",
        Decimal("-100.00"),
        True,
        household,
    )


def test_the_bulk_delete_of_ledgers_takes_their_transfers_whole(admin_client, user, household):
    """ "Delete selected" goes through the service: a transfer with a leg in another ledger goes
    with both legs, and no half transfer is left behind."""
    from ledger import services
    from ledger.models import Transfer
    from ledger.tests.factories import main_account

    mine = main_account(user)
    theirs = household.accounts.get(name="Joint card")
    owner = household.memberships.get().user
    add_member(household, user, Role.EDITOR)
    services.transfer_create(actor=user, from_account=mine, to_account=theirs, amount=Decimal("5"))
    response = admin_client.post(
        reverse("admin:ledger_ledger_changelist"),
        {"action": "delete_selected", "_selected_action": [household.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not Ledger.objects.filter(pk=household.pk).exists()
    assert not Transfer.objects.exists()
    assert not Transaction.objects.filter(account=mine).exists()
    assert owner.pk  # the household's owner is untouched


def test_the_bulk_delete_of_empty_accounts_goes_through_the_service(admin_client, household):
    spare = AccountFactory(ledger=household, name="Spare")
    response = admin_client.post(
        reverse("admin:ledger_account_changelist"),
        {"action": "delete_selected", "_selected_action": [spare.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not Account.objects.filter(pk=spare.pk).exists()


def test_the_admin_keeps_a_reconciled_rows_and_a_legs_amount_fixed(admin_client, user):
    """As the API does: a reconciled row's amount, type, date and account, and a transfer leg's,
    are read-only in the admin; a transfer is not a type the admin makes."""
    from ledger import services
    from ledger.tests.factories import main_account

    reconciled = TransactionFactory(owner=user)
    with services.unit_of_work(reconciled.ledger_id):
        Transaction.objects.filter(pk=reconciled.pk).update(status="reconciled")
    savings = services.account_create(actor=user, name="Savings")
    transfer = services.transfer_create(
        actor=user, from_account=main_account(user), to_account=savings, amount=Decimal("5")
    )
    plain = TransactionFactory(owner=user)
    for row, fixed in [(reconciled, True), (transfer.legs.first(), True), (plain, False)]:
        page = admin_client.get(reverse("admin:ledger_transaction_change", args=[row.pk]))
        form = page.context["adminform"].form
        assert ("amount" not in form.fields) is fixed, row
    added = admin_client.get(reverse("admin:ledger_transaction_add"))
    choices = [value for value, _ in added.context["adminform"].form.fields["type"].choices]
    assert "TRANSFER" not in choices and "EXPENSE" in choices
