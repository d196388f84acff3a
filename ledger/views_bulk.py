"""Batch create, CSV/JSON imports run by Celery workers, and streaming exports."""

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction as db_transaction
from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from cashman_site.celery import dispatch
from cashman_site.renderers import JSONRenderer
from ledger import bulk, exports, imports, selectors, services, tasks
from ledger.choices import TransactionType
from ledger.filters import TransactionFilter
from ledger.models import Account, ImportJob, Transaction
from ledger.serializers import (
    BatchAnswerSerializer,
    BatchTransactionSerializer,
    ImportJobDetailSerializer,
    ImportJobSerializer,
    ImportUploadSerializer,
)
from ledger.view_mixins import IdempotentCreateMixin


def batch_create(view, request: Request, *, transaction_type: str | None) -> Response:
    """`POST transactions/batch/`: a JSON list of up to CASHMAN_BATCH_MAX_ROWS transactions, saved
    all together or not at all. `?dry_run=true` checks them and saves nothing. Each row may name
    its account (the default account otherwise); a row in a ledger the user only views makes the
    whole batch a 403."""
    rows = request.data
    limit = settings.CASHMAN_BATCH_MAX_ROWS
    if not isinstance(rows, list) or not 1 <= len(rows) <= limit:
        raise ValidationError({"non_field_errors": [f"Send a JSON list of 1 to {limit} rows."]})
    dry_run = request.query_params.get("dry_run", "").lower() in ("1", "true", "yes")
    accounts = _BatchAccounts(request.user)
    prepared = []
    for index, row in enumerate(rows):
        serializer = BatchTransactionSerializer(data=row, context=view.get_serializer_context())
        if not isinstance(row, dict) or not serializer.is_valid():
            errors = (
                serializer.errors
                if isinstance(row, dict)
                else {"non_field_errors": ["Each row must be a JSON object."]}
            )
            prepared.append((index, None, errors))
            continue
        data = dict(serializer.validated_data)
        if transaction_type:
            data["type"] = transaction_type
        if data["type"] == TransactionType.TRANSFER:
            prepared.append((index, None, {"type": [TRANSFER_IN_BATCH]}))
            continue
        account, errors = accounts.usable(data.pop("account", None))
        if account is None:
            prepared.append((index, None, errors))
            continue
        tx = Transaction(
            ledger_id=account.ledger_id, account=account, created_by=request.user, **data
        )
        prepared.append((index, tx, {}))
    saved, results = services.transactions_batch_create(
        actor=request.user, rows=prepared, dry_run=dry_run
    )
    counts = {
        s: sum(r.status == s for r in results) for s in (bulk.CREATED, bulk.DUPLICATE, bulk.INVALID)
    }
    body = {
        "dry_run": dry_run,
        "saved": saved,
        "created": counts[bulk.CREATED],
        "duplicates": counts[bulk.DUPLICATE],
        "invalid": counts[bulk.INVALID],
        "results": [r.as_dict() for r in results],
    }
    if counts[bulk.INVALID]:
        body["detail"] = "No row was saved: fix the invalid rows and send the batch again."
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    return Response(body, status=status.HTTP_201_CREATED if saved else status.HTTP_200_OK)


TRANSFER_IN_BATCH = "A batch takes incomes and expenses: record a transfer through transfers/."


class _BatchAccounts:
    """The accounts a batch's rows name, each checked once (`usable_account`): a ledger the user
    only views refuses the whole batch (PermissionDenied, a 403); an archived account is the
    error of each row that names it."""

    def __init__(self, user) -> None:
        self.user = user
        self._checked: dict[int | None, tuple[Account | None, dict]] = {}

    def usable(self, account: Account | None) -> tuple[Account | None, dict]:
        key = None if account is None else account.pk
        if key not in self._checked:
            try:
                found = services.transactions.usable_account(actor=self.user, account=account)
                self._checked[key] = (found, {})
            except DjangoValidationError as exc:
                self._checked[key] = (None, exc.message_dict)
        return self._checked[key]


BATCH_SCHEMA = extend_schema(
    request=BatchTransactionSerializer(many=True),
    responses={
        201: BatchAnswerSerializer,
        200: BatchAnswerSerializer,
        # A batch with invalid rows answers the per-row report; a body that is not a list of
        # 1 to CASHMAN_BATCH_MAX_ROWS rows, the usual field errors.
        400: OpenApiResponse(
            {
                "anyOf": [
                    {"$ref": "#/components/schemas/BatchAnswer"},
                    {"$ref": "#/components/schemas/ValidationError"},
                ]
            },
            description="Invalid rows (nothing saved), or a body that is not a list of rows.",
        ),
    },
    parameters=[OpenApiParameter("dry_run", OpenApiTypes.BOOL, description="Check, save nothing.")],
)


@extend_schema(tags=["imports"])
class ImportJobViewSet(
    IdempotentCreateMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Upload a CSV (or a Cashman JSON export) to import; follow the job until it is done."""

    queryset = ImportJob.objects.none()  # the model, for the schema; get_queryset scopes it
    parser_classes = [MultiPartParser, FormParser]

    def get_throttles(self):
        # Uploads have their own, tighter limit; following a job is an ordinary request.
        self.throttle_scope = "imports" if self.action == "create" else None
        return super().get_throttles()

    def get_queryset(self) -> QuerySet[ImportJob]:
        return selectors.import_jobs_for(user=self.request.user)

    def get_serializer_class(self):
        if self.action == "create":
            return ImportUploadSerializer
        return ImportJobDetailSerializer if self.action == "retrieve" else ImportJobSerializer

    @extend_schema(request=ImportUploadSerializer, responses={202: ImportJobSerializer})
    def create(self, request: Request, *args, **kwargs) -> Response:
        """Check the file and queue its import into `account` (your personal ledger's first
        open account if left out): 202 with the job. Follow it at `imports/{id}/`. A file that
        cannot be imported (not UTF-8, not CSV, missing columns, empty, too large) is a 400 and
        creates nothing; so is an account that is archived or not in one of your ledgers, and
        one of a ledger you only view is a 403."""
        return self.run_idempotently(request, lambda: self._queue_import(request))

    def _queue_import(self, request: Request) -> Response:
        upload = ImportUploadSerializer(data=request.data, context={"request": request})
        upload.is_valid(raise_exception=True)
        try:
            job = imports.import_create(
                owner=request.user,
                upload=upload.validated_data["file"],
                account=upload.validated_data.get("account"),
                request_id=getattr(request, "request_id", ""),
            )
        except imports.ImportFileError as exc:
            raise ValidationError({"file": [str(exc)]}) from exc
        # Recorded first: if the broker cannot take the job now, it is queued again later
        # (ledger.tasks.recover_imports), and the answer is the 202 of a recorded job.
        db_transaction.on_commit(lambda: dispatch(tasks.run_import, job.pk))
        return Response(ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class _AlwaysJSON(BaseContentNegotiation):
    """Export picks its format from `?format=` itself; errors are JSON whatever was asked."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


@extend_schema(tags=["export"])
class ExportViewSet(viewsets.GenericViewSet):
    queryset = Transaction.objects.none()  # the model, for the schema; get_queryset scopes it
    filter_backends = [DjangoFilterBackend]
    filterset_class = TransactionFilter
    renderer_classes = [JSONRenderer]
    content_negotiation_class = _AlwaysJSON
    pagination_class = None

    def get_queryset(self) -> QuerySet[Transaction]:
        return selectors.transactions_for(user=self.request.user)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "format",
                str,
                enum=["csv", "json"],
                description="csv (default) or json (lossless, re-importable)",
            )
        ],
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="CSV"),
            (200, "application/json"): OpenApiResponse(
                OpenApiTypes.OBJECT, description="Cashman JSON export"
            ),
        },
    )
    def list(self, request: Request) -> StreamingHttpResponse:
        """Stream the transactions of all your ledgers (with the list filters), oldest first. The
        JSON export also holds your ledgers, their accounts and categories, and the transfers
        with a leg among the transactions."""
        kind = request.query_params.get("format", "csv")
        if kind not in ("csv", "json"):
            raise ValidationError({"format": ["Choose csv or json."]})
        transactions = self.filter_queryset(self.get_queryset())
        if kind == "csv":
            stream = exports.export_csv(transactions=transactions)
        else:
            stream = exports.export_json(
                owner=request.user,
                transactions=transactions,
                categories=selectors.categories_for(user=request.user),
                ledgers=selectors.ledger_rows_for(user=request.user),
                accounts=selectors.account_rows_for(user=request.user),
                transfers=selectors.transfers_for(user=request.user),
            )
        response = StreamingHttpResponse(
            stream, content_type="text/csv; charset=utf-8" if kind == "csv" else "application/json"
        )
        name = f"cashman-{timezone.localdate().isoformat()}.{kind}"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
