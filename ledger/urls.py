"""The ledger's routes, registered on the project's one router."""

from rest_framework.routers import DefaultRouter

from ledger import views, views_budgets, views_bulk, views_households, views_schedules


def register(router: DefaultRouter) -> None:
    router.register("transactions", views.TransactionViewSet, basename="transaction")
    router.register("incomes", views.IncomeViewSet, basename="income")
    router.register("expenses", views.ExpenseViewSet, basename="expense")
    router.register("categories", views.CategoryViewSet, basename="category")
    router.register("accounts", views_households.AccountViewSet, basename="account")
    router.register("transfers", views_households.TransferViewSet, basename="transfer")
    router.register("ledgers", views_households.LedgerViewSet, basename="ledger")
    router.register(
        r"ledgers/(?P<ledger_pk>[^/.]+)/members",
        views_households.MemberViewSet,
        basename="ledger-member",
    )
    router.register(
        r"ledgers/(?P<ledger_pk>[^/.]+)/invitations",
        views_households.LedgerInvitationViewSet,
        basename="ledger-invitation",
    )
    router.register("invitations", views_households.InvitationViewSet, basename="invitation")
    router.register("summary", views.SummaryViewSet, basename="summary")
    router.register("schedules", views_schedules.ScheduleViewSet, basename="schedule")
    router.register("forecast", views_schedules.ForecastViewSet, basename="forecast")
    router.register("imports", views_bulk.ImportJobViewSet, basename="import")
    router.register("export", views_bulk.ExportViewSet, basename="export")
    router.register("budgets", views_budgets.BudgetViewSet, basename="budget")
