"""Schedules of recurring transactions, their occurrences, and the cash-flow forecast."""

import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from cashman_site.schema import ValidationErrorSerializer
from ledger import selectors
from ledger.filters import FilterBackend, ScheduleFilter
from ledger.models import Account, Schedule
from ledger.selectors import forecast as forecasts
from ledger.selectors import schedules as schedule_reads
from ledger.serializers_schedules import (
    ForecastQuerySerializer,
    ForecastSerializer,
    OccurrenceQuerySerializer,
    OccurrenceSerializer,
    ScheduleSerializer,
    SkipSerializer,
)
from ledger.services import schedules as services
from ledger.view_mixins import IdempotentCreateMixin, VersionedObjectMixin

#: How far a forecast may look ahead.
FORECAST_YEARS = 5
FORECAST_DAYS = 90


@extend_schema(tags=["schedules"])
class ScheduleViewSet(IdempotentCreateMixin, VersionedObjectMixin, viewsets.ModelViewSet):
    """Recurring transactions. Each schedule posts an ordinary transaction (naming the
    `schedule` and its `occurrence_date`) on every date its `rule` gives, RFC 5545 style: a
    monthly rule on the 31st posts on the last day of shorter months, and `weekend` moves a
    Saturday or Sunday to the Friday before or the Monday after. Celery beat (or
    `manage.py post_schedules`) posts what is due, once per occurrence whatever the number of
    workers; occurrences missed while nothing ran are posted when it runs again. An edit changes
    the occurrences from today on; those before stay as they were posted. Owners and editors
    write schedules; viewers read them."""

    queryset = Schedule.objects.none()  # the model, for the schema; get_queryset scopes it
    serializer_class = ScheduleSerializer
    filter_backends = [FilterBackend]
    filterset_class = ScheduleFilter

    def get_queryset(self) -> QuerySet[Schedule]:
        return schedule_reads.schedules_for(user=self.request.user)

    def perform_create(self, serializer: ScheduleSerializer) -> None:
        schedule = services.schedule_create(actor=self.request.user, **serializer.validated_data)
        serializer.instance = self.written_instance = schedule

    def perform_update(self, serializer: ScheduleSerializer) -> None:
        schedule = services.schedule_update(
            schedule=serializer.instance,
            actor=self.request.user,
            data=dict(serializer.validated_data),
            if_version=self.if_match_version(serializer.instance),
        )
        serializer.instance = self.written_instance = schedule

    def perform_destroy(self, instance: Schedule) -> None:
        services.schedule_delete(
            schedule=instance, actor=self.request.user, if_version=self.if_match_version(instance)
        )

    @extend_schema(
        parameters=[OccurrenceQuerySerializer],
        responses={
            200: OccurrenceSerializer(many=True),
            400: OpenApiResponse(
                ValidationErrorSerializer,
                description="A bad date, until before since, or more than 1,000 occurrences.",
            ),
        },
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def occurrences(self, request: Request, pk: str | None = None) -> Response:
        """The schedule's occurrences from `since` (default today) to `until` (default a year
        later), each with its `status` and the `transaction` posted for it. Asking for more
        than 1,000 occurrences is a 400."""
        schedule = self.get_object()
        query = OccurrenceQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        today = timezone.localdate()
        since = query.validated_data.get("since", today)
        until = query.validated_data.get("until") or _years_later(since, 1)
        try:
            found = schedule_reads.occurrences(schedule, since=since, until=until, today=today)
        except schedule_reads.TooManyOccurrences as exc:
            raise ValidationError({"until": str(exc)}) from None
        return Response(OccurrenceSerializer(found, many=True).data)

    @extend_schema(request=SkipSerializer, responses=ScheduleSerializer)
    @action(detail=True, methods=["post"], filter_backends=[])
    def skip(self, request: Request, pk: str | None = None) -> Response:
        """Leave out one occurrence (its rule date). One already posted or past is a 409."""
        return self._skip(request, services.schedule_skip)

    @extend_schema(request=SkipSerializer, responses=ScheduleSerializer)
    @action(detail=True, methods=["post"], filter_backends=[])
    def unskip(self, request: Request, pk: str | None = None) -> Response:
        """Plan again an occurrence that was skipped; a past one is a 409."""
        return self._skip(request, services.schedule_unskip)

    def _skip(self, request: Request, write: Any) -> Response:
        schedule = self.get_object()
        given = SkipSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        schedule = write(schedule=schedule, actor=request.user, **given.validated_data)
        self.written_instance = schedule
        return Response(self.get_serializer(schedule).data)


def _years_later(day: datetime.date, years: int) -> datetime.date:
    year = min(day.year + years, datetime.MAXYEAR)
    return day.replace(year=year, day=min(day.day, 28) if day.month == 2 else day.day)


@extend_schema(tags=["schedules"])
class ForecastViewSet(viewsets.ViewSet):
    """When will the money run out? The projected balance of one `account`, or of every
    account of a `ledger`, for each day with a movement from today to `until`: today's balance,
    then the transactions already dated later, the occurrences its schedules will post, and with
    `budgets=true` what is left of the ledger's budgets spread over each month's remaining days
    as expected spending (less the category's recorded and scheduled spending in that month).
    `first_negative` is the first day the balance is below zero."""

    serializer_class = ForecastSerializer

    @extend_schema(
        parameters=[ForecastQuerySerializer],
        responses={
            200: ForecastSerializer,
            400: OpenApiResponse(
                ValidationErrorSerializer,
                description="Neither or both of account and ledger, one that is not yours, or "
                "an until before today or more than 5 years ahead.",
            ),
        },
    )
    def list(self, request: Request) -> Response:
        query = ForecastQuerySerializer(data=request.query_params, context={"request": request})
        query.is_valid(raise_exception=True)
        given = query.validated_data
        if ("account" in given) == ("ledger" in given):
            raise ValidationError({"account": "Give an account or a ledger (one of them)."})
        today = timezone.localdate()
        until = given.get("until") or today + datetime.timedelta(days=FORECAST_DAYS)
        if until < today:
            raise ValidationError({"until": "The forecast starts today: give a later date."})
        if until > _years_later(today, FORECAST_YEARS):
            raise ValidationError(
                {"until": f"A forecast looks {FORECAST_YEARS} years ahead at most."}
            )
        if "account" in given:
            accounts: list[Account] = [given["account"]]
            ledger_id = given["account"].ledger_id
        else:
            ledger_id = given["ledger"].pk
            accounts = list(selectors.account_rows_for(user=request.user).filter(ledger=ledger_id))
        answer = forecasts.forecast(
            user=request.user,
            accounts=accounts,
            today=today,
            until=until,
            budget_ledger=ledger_id if given["budgets"] else None,
        )
        return Response(ForecastSerializer(answer).data)
