import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import UserFactory
from ledger.choices import TransactionType
from ledger.models import Transaction
from ledger.tests.factories import CategoryFactory, TransactionFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:ledger_transaction_changelist")


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def rows(user, other_user):
    return [
        TransactionFactory(owner=user, description="Coffee beans", amount=Decimal("12.50")),
        TransactionFactory(
            owner=user, type=TransactionType.INCOME, description="Salary", amount=Decimal("3000")
        ),
        TransactionFactory(owner=other_user, description="Coffee cup", amount=Decimal("2.25")),
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
        "balance": Decimal("2985.25"),
        "count": 3,
    }
    assert 'id="ledger-totals"' in content


def test_search_by_description_and_owner_email_and_totals_follow(admin_client, rows, other_user):
    response = admin_client.get(CHANGELIST, {"q": "coffee"})
    assert response.context["totals"]["count"] == 2
    response = admin_client.get(CHANGELIST, {"q": other_user.email})
    content = response.content.decode()
    assert "Coffee cup" in content and "Coffee beans" not in content
    assert response.context["totals"]["expense"] == Decimal("-2.25")


def test_filter_by_type_and_date_hierarchy(admin_client, rows):
    response = admin_client.get(CHANGELIST, {"type__exact": "INCOME"})
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
    assert lines[0] == "id,owner,date,type,description,amount,category,created_at"
    assert len(lines) == 3
    assert any(",Coffee beans,-12.50," in line for line in lines)


def test_adding_an_expense_in_the_admin_stores_it_negative(admin_client, user):
    response = admin_client.post(
        reverse("admin:ledger_transaction_add"),
        {
            "owner": user.pk,
            "type": "EXPENSE",
            "description": "Admin typed",
            "amount": "40",
            "date": "2026-11-02",
        },
    )
    assert response.status_code == 302, response.content
    tx = Transaction.objects.get(description="Admin typed")
    assert tx.amount == Decimal("-40.00")


def test_admin_refuses_another_users_category(admin_client, user, other_user):
    theirs = CategoryFactory(owner=other_user)
    response = admin_client.post(
        reverse("admin:ledger_transaction_add"),
        {
            "owner": user.pk,
            "type": "EXPENSE",
            "description": "Wrong cat",
            "amount": "5",
            "date": "2026-11-02",
            "category": theirs.pk,
        },
    )
    assert response.status_code == 200
    assert not Transaction.objects.filter(description="Wrong cat").exists()


def test_admin_refuses_a_negative_income(admin_client, user):
    response = admin_client.post(
        reverse("admin:ledger_transaction_add"),
        {
            "owner": user.pk,
            "type": "INCOME",
            "description": "Bad",
            "amount": "-5",
            "date": "2026-11-02",
        },
    )
    assert response.status_code == 200
    assert not Transaction.objects.exists()


def test_category_admin_changelist(admin_client, user):
    CategoryFactory(owner=user, name="Groceries")
    response = admin_client.get(reverse("admin:ledger_category_changelist"), {"q": "groc"})
    assert "Groceries" in response.content.decode()


def test_transaction_change_page_renders(admin_client, rows):
    response = admin_client.get(reverse("admin:ledger_transaction_change", args=[rows[0].pk]))
    assert response.status_code == 200
    assert response.context["original"].date == datetime.date(2026, 11, 1)


def test_import_jobs_are_listed_for_staff(admin_client, user):
    from django.core.files.base import ContentFile

    from ledger.models import ImportJob

    ImportJob.objects.create(
        owner=user,
        file=ContentFile(b"x", name="a.csv"),
        filename="statement-2026.csv",
        format="csv",
    )
    response = admin_client.get(reverse("admin:ledger_importjob_changelist"), {"q": "statement"})
    assert "statement-2026.csv" in response.content.decode()


def generations(*users) -> list[int]:
    return [User.objects.get(pk=u.pk).ledger_generation for u in users]


def test_admin_writes_end_the_owners_cached_answers(admin_client, user, other_user, rows):
    """The admin writes through the services: a change, a move to another owner, a bulk delete
    and a category's delete each end the cached answers of every owner they touch."""
    coffee = rows[0]
    before = generations(user, other_user)
    response = admin_client.post(
        reverse("admin:ledger_transaction_change", args=[coffee.pk]),
        {
            "owner": other_user.pk,
            "type": "EXPENSE",
            "description": "Moved",
            "amount": "12.50",
            "date": "2026-11-01",
        },
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
