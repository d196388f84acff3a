from django.core.management.base import BaseCommand, CommandError

from ledger import rollups

#: Differences printed before the rest are only counted.
SHOWN = 20


class Command(BaseCommand):
    help = (
        "Recompute the rollups (the transactions' totals by day and by month that summaries, "
        "balances and list counts read) from the transactions. With --check, change nothing: "
        "report every difference and exit with status 1 if there is any."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="Compare the rollups with the transactions instead of rebuilding them.",
        )
        parser.add_argument(
            "--ledger", type=int, action="append", help="Check only this ledger (repeatable)."
        )

    def handle(self, *args, check: bool = False, ledger: list[int] | None = None, **options):
        if not check:
            if ledger:
                raise CommandError("--ledger applies to --check; a rebuild recomputes them all.")
            rollups.rebuild()
            self.stdout.write("Rollups rebuilt from the transactions.")
            return
        found = 0
        for difference in rollups.drift(ledger):
            found += 1
            if found <= SHOWN:
                self.stdout.write(
                    f"{difference.table} {difference.key}: transactions give "
                    f"{difference.expected}, the rollup holds {difference.stored}"
                )
        if found:
            raise CommandError(
                f"{found} rollup rows differ from the transactions "
                "(count, inflow and outflow in cents); run rebuild_rollups."
            )
        self.stdout.write("Rollups match the transactions.")
