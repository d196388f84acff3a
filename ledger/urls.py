"""The ledger's routes, registered on the project's one router."""

from rest_framework.routers import DefaultRouter

from ledger import views, views_bulk


def register(router: DefaultRouter) -> None:
    router.register("transactions", views.TransactionViewSet, basename="transaction")
    router.register("incomes", views.IncomeViewSet, basename="income")
    router.register("expenses", views.ExpenseViewSet, basename="expense")
    router.register("categories", views.CategoryViewSet, basename="category")
    router.register("summary", views.SummaryViewSet, basename="summary")
    router.register("imports", views_bulk.ImportJobViewSet, basename="import")
    router.register("export", views_bulk.ExportViewSet, basename="export")
