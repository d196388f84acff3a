import csv
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from simple_history.admin import SimpleHistoryAdmin

from ledger import selectors, services
from ledger.admin_budgets import BudgetAdmin
from ledger.admin_households import AccountAdmin, LedgerAdmin
from ledger.admin_schedules import ScheduleAdmin
from ledger.choices import TransactionStatus, TransactionType
from ledger.exports import spreadsheet_text
from ledger.models import Category, ImportJob, Transaction
from ledger.services.transactions import RECONCILED_FIELDS

__all__ = ["AccountAdmin", "BudgetAdmin", "LedgerAdmin", "ScheduleAdmin"]

CSV_COLUMNS = [
    "id",
    "ledger",
    "account",
    "date",
    "type",
    "description",
    "amount",
    "category",
    "status",
    "created_at",
]


class _Echo:
    """A file-like object whose write() hands the line back, for streaming CSV."""

    def write(self, value: str) -> str:
        return value


@admin.action(description="Export selected transactions as CSV")
def export_csv(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet
) -> HttpResponse:
    writer = csv.writer(_Echo())
    rows = (
        queryset.select_related("ledger", "account", "category").order_by("-date", "-id").iterator()
    )

    def lines():
        yield writer.writerow(CSV_COLUMNS)
        for tx in rows:
            yield writer.writerow(
                [
                    tx.pk,
                    spreadsheet_text(tx.ledger.name),
                    spreadsheet_text(tx.account.name),
                    tx.date.isoformat(),
                    spreadsheet_text(tx.type),
                    spreadsheet_text(tx.description),
                    f"{tx.amount:.2f}",
                    spreadsheet_text(tx.category.name if tx.category else ""),
                    tx.status,
                    tx.created_at.isoformat(),
                ]
            )

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="transactions.csv"'
    return response


@admin.register(Transaction)
class TransactionAdmin(SimpleHistoryAdmin):
    list_display = (
        "date",
        "description",
        "amount",
        "type",
        "status",
        "category",
        "account",
        "ledger",
        "created_at",
    )
    list_display_links = ("date", "description")
    list_filter = (
        "type",
        "status",
        "date",
        ("ledger", admin.RelatedOnlyFieldListFilter),
        ("account", admin.RelatedOnlyFieldListFilter),
        ("category", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("description", "ledger__name", "account__name", "created_by__email")
    date_hierarchy = "date"
    list_select_related = ("ledger", "account", "category")
    autocomplete_fields = ("account", "category")
    # The ledger is the account's; a transfer's legs are changed through the API, both at once.
    readonly_fields = (
        "ledger",
        "transfer",
        "schedule",
        "occurrence_date",
        "created_by",
        "created_at",
        "updated_at",
        "version",
    )
    actions = [export_csv]
    ordering = ("-date", "-id")

    def get_readonly_fields(self, request: HttpRequest, obj: Transaction | None = None) -> Any:
        # What the API keeps fixed, the admin keeps too: a reconciled row's amount, type, date and
        # account (set its status back to cleared first), and a transfer leg's, which the API
        # changes on both legs at once.
        fields = super().get_readonly_fields(request, obj)
        if obj is not None and (obj.transfer_id or obj.status == TransactionStatus.RECONCILED):
            return (*fields, *RECONCILED_FIELDS)
        return fields

    def formfield_for_choice_field(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "type":  # a transfer is made through the API, with both legs
            kwargs["choices"] = [c for c in db_field.choices if c[0] != TransactionType.TRANSFER]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    # Writes go through the services, as the API's do.
    def save_model(self, request: HttpRequest, obj: Transaction, form, change: bool) -> None:
        services.transaction_save(transaction=obj, actor=request.user)

    def delete_model(self, request: HttpRequest, obj: Transaction) -> None:
        # Staff act on any ledger: no member check, and they are named in the history.
        services.transaction_delete(transaction=obj, history_user=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        services.transaction_delete_many(transactions=queryset)

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None)
        if context and "cl" in context:
            # The totals of every row the filters and search select, not only this page.
            context["totals"] = selectors.summary_total(transactions=context["cl"].queryset)
        return response


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "ledger", "rollover", "created_at")
    list_select_related = ("ledger",)
    search_fields = ("name", "ledger__name")
    list_filter = ("rollover", ("ledger", admin.RelatedOnlyFieldListFilter))
    autocomplete_fields = ("ledger",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # Its transactions, budgets and schedules are in its ledger: it stays there.
        fields = super().get_readonly_fields(request, obj)
        return (*fields, "ledger") if obj is not None else fields

    def save_model(self, request: HttpRequest, obj: Category, form, change: bool) -> None:
        services.category_save(category=obj)

    def delete_model(self, request: HttpRequest, obj: Category) -> None:
        services.category_delete(category=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        services.category_delete_many(categories=queryset)


@admin.action(description="Restore the selected deleted transactions")
def restore_deleted(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> None:
    restored = [
        tx
        for record in queryset.filter(history_type="-")
        if (tx := services.transaction_restore(record=record, actor=request.user)) is not None
    ]
    if restored:
        modeladmin.message_user(request, f"Restored {len(restored)} transaction(s).")
    else:
        modeladmin.message_user(
            request,
            "Nothing to restore: select deletions of transactions that do not exist.",
            level=messages.WARNING,
        )


@admin.register(Transaction.history.model)
class TransactionHistoryAdmin(admin.ModelAdmin):
    """Every recorded change of every transaction; deleted ones can be restored from here."""

    list_display = (
        "history_date",
        "history_type",
        "id",
        "description",
        "amount",
        "ledger",
        "history_user",
    )
    list_filter = ("history_type", "history_date")
    search_fields = ("description", "history_user__email")
    date_hierarchy = "history_date"
    list_select_related = ("ledger", "history_user")
    actions = [restore_deleted]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    """Imports are made through the API or `import_csv`; here staff follow them."""

    list_display = (
        "created_at",
        "owner",
        "account",
        "filename",
        "format",
        "status",
        "created_count",
        "duplicate_count",
        "invalid_count",
    )
    list_filter = ("status", "format")
    search_fields = ("filename", "owner__email")
    date_hierarchy = "created_at"
    list_select_related = ("owner", "account")
    readonly_fields = [field.name for field in ImportJob._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
