"""The admin of schedules: staff see and correct them; saves go through the services, as the
API's do, so a changed rule is planned again."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from ledger.models import Schedule, ScheduleSkip
from ledger.services import schedules as services


class ScheduleSkipInline(admin.TabularInline):
    model = ScheduleSkip
    extra = 0
    fields = ("date", "created_at")
    readonly_fields = ("date", "created_at")
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # skipped through the API, which checks the date is an occurrence


@admin.register(Schedule)
class ScheduleAdmin(admin.ModelAdmin):
    list_display = ("description", "ledger", "account", "type", "amount", "next_date", "weekend")
    list_select_related = ("ledger", "account")
    list_filter = ("type", "weekend")
    search_fields = ("description", "ledger__name", "account__name")
    autocomplete_fields = ("account",)
    raw_id_fields = ("category",)
    date_hierarchy = "next_date"
    readonly_fields = ("ledger", "created_by", "posted_until", "next_date", "created_at", "version")
    inlines = [ScheduleSkipInline]

    def save_model(self, request: HttpRequest, obj: Schedule, form: Any, change: bool) -> None:
        if change:  # as an edit through the API: what the old rule left due is posted first
            data = {f: form.cleaned_data[f] for f in form.changed_data if f in services.EDITABLE}
            services.schedule_update(schedule=obj, actor=None, data=data)
            return
        obj.created_by = request.user  # type: ignore[assignment]
        services.schedule_add(schedule=obj)

    def delete_model(self, request: HttpRequest, obj: Schedule) -> None:
        services.schedule_delete_many(schedules=Schedule.objects.filter(pk=obj.pk))

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        services.schedule_delete_many(schedules=queryset)
