"""The admin of households: ledgers with their members, and accounts. Saves go through the
services, as the API's do."""

from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest

from ledger import services
from ledger.choices import Role
from ledger.models import Account, Ledger, Membership


class MembershipFormSet(BaseInlineFormSet):
    """A ledger keeps an owner, and a personal ledger its own user as owner."""

    def clean(self) -> None:
        super().clean()
        kept = [
            form.cleaned_data
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        if not any(data.get("role") == Role.OWNER for data in kept):
            raise ValidationError("A ledger keeps at least one owner.")
        personal = self.instance.personal_for_id
        if personal is not None and not any(
            data.get("user") is not None
            and data["user"].pk == personal
            and data.get("role") == Role.OWNER
            for data in kept
        ):
            raise ValidationError("A personal ledger's own user stays its owner.")


class MembershipInline(admin.TabularInline):
    model = Membership
    formset = MembershipFormSet
    extra = 0
    autocomplete_fields = ("user",)
    readonly_fields = ("created_at",)


class AccountInline(admin.TabularInline):
    model = Account
    extra = 0
    fields = ("name", "kind", "opening_balance", "opening_date", "archived")
    show_change_link = True

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # an account is deleted from its own page (not one with transactions)


@admin.register(Ledger)
class LedgerAdmin(admin.ModelAdmin):
    list_display = ("name", "personal_for", "created_at")
    list_select_related = ("personal_for",)
    search_fields = ("name", "personal_for__email", "memberships__user__email")
    list_filter = (("personal_for", admin.EmptyFieldListFilter),)
    autocomplete_fields = ("personal_for",)
    readonly_fields = ("created_at", "version")
    inlines = [MembershipInline, AccountInline]

    def save_model(self, request: HttpRequest, obj: Ledger, form: Any, change: bool) -> None:
        services.ledger_save(ledger=obj)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        services.ledger_rows_save(ledger=form.instance, save=formset.save)

    # A personal ledger goes with its user, and only with them: its own page offers no delete
    # and its deletion is refused, but a user's deletion (which the admin also asks this admin
    # about, ledger by ledger) may take it.
    def change_view(self, request: HttpRequest, object_id: str, *args: Any, **kwargs: Any) -> Any:
        ledger = self.get_object(request, unquote(object_id))
        if ledger is not None and ledger.personal_for_id is not None:
            kwargs["extra_context"] = {**(kwargs.get("extra_context") or {}), "show_delete": False}
        return super().change_view(request, object_id, *args, **kwargs)

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        if any(ledger.personal_for_id is not None for ledger in objs):
            perms_needed = {*perms_needed, "personal ledgers (they go with their user)"}
        return deleted, counts, perms_needed, protected

    def delete_model(self, request: HttpRequest, obj: Ledger) -> None:
        services.ledger_delete(ledger=obj, actor=None)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        # Each through the service: its transfers go whole, its members' answers end.
        for ledger in queryset:
            services.ledger_delete(ledger=ledger, actor=None)


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ("name", "ledger", "kind", "opening_balance", "archived", "created_at")
    list_select_related = ("ledger",)
    list_filter = ("kind", "archived")
    search_fields = ("name", "ledger__name")
    autocomplete_fields = ("ledger",)
    readonly_fields = ("created_at", "version")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # Its transactions and their categories are in its ledger: it stays there.
        fields = super().get_readonly_fields(request, obj)
        return (*fields, "ledger") if obj is not None else fields

    def save_model(self, request: HttpRequest, obj: Account, form: Any, change: bool) -> None:
        services.account_save(account=obj)

    def delete_model(self, request: HttpRequest, obj: Account) -> None:
        services.account_delete(account=obj, actor=None)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for account in queryset:  # the admin refused those with transactions already
            services.account_delete(account=account, actor=None)
