from django.core.management.base import BaseCommand

from ledger.demo import DEMO_EMAIL, DEMO_PASSWORD, seed_demo
from ledger.models import Transaction


class Command(BaseCommand):
    help = "Create the demo user with the tutorial's four transactions and months of varied data."

    def add_arguments(self, parser):
        parser.add_argument("--months", type=int, default=6, help="Months of history (default 6).")
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete the transactions and categories of the demo user's ledger first.",
        )

    def handle(self, *args, months: int, reset: bool, **options):
        user = seed_demo(months=months, reset=reset)
        count = Transaction.objects.filter(ledger__personal_for=user).count()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo user {DEMO_EMAIL} (password {DEMO_PASSWORD}) has {count} transactions."
            )
        )
