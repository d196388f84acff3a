"""The admin of budgets: staff see and correct them; saves and deletes go through the services, as
the API's do, under the same rules (the month's first day, the category in the ledger, one
budget per category and month)."""

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from ledger.models import Budget
from ledger.services.budgets import budget_check, budget_delete, budget_delete_many, budget_save


class BudgetForm(forms.ModelForm):
    class Meta:
        model = Budget
        fields = ["ledger", "category", "month", "amount"]
        help_texts = {"month": "Any day of the month: the budget is the whole month's."}

    def clean_month(self) -> Any:
        month = self.cleaned_data.get("month")
        return month.replace(day=1) if month else month

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        ledger = data.get("ledger") or getattr(self.instance, "ledger", None)
        if ledger is not None and data.get("category") and data.get("month"):
            budget = Budget(
                pk=self.instance.pk,
                ledger=ledger,
                category=data["category"],
                month=data["month"],
                amount=data.get("amount"),
            )
            try:
                budget_check(budget)
            except ValidationError as error:
                self.add_error(None, error)
        return data


@admin.register(Budget)
class BudgetAdmin(admin.ModelAdmin):
    form = BudgetForm
    list_display = ("category", "month_name", "amount", "ledger", "rollover", "created_at")
    list_display_links = ("category", "month_name")
    list_filter = ("category__rollover", ("ledger", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("ledger", "category")
    search_fields = ("category__name", "ledger__name")
    date_hierarchy = "month"
    autocomplete_fields = ("ledger", "category")
    readonly_fields = ("created_at", "version")
    ordering = ("-month", "category__name", "id")

    @admin.display(description="month", ordering="month")
    def month_name(self, budget: Budget) -> str:
        return f"{budget.month:%Y-%m}"

    @admin.display(description="rollover", boolean=True, ordering="category__rollover")
    def rollover(self, budget: Budget) -> bool:
        return budget.category.rollover

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # Its category is in its ledger: it stays there.
        fields = super().get_readonly_fields(request, obj)
        return (*fields, "ledger") if obj is not None else fields

    def save_model(self, request: HttpRequest, obj: Budget, form: Any, change: bool) -> None:
        budget_save(budget=obj)

    def delete_model(self, request: HttpRequest, obj: Budget) -> None:
        budget_delete(budget=obj, actor=None)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Budget]) -> None:
        budget_delete_many(budgets=queryset)
