"""A write to a user's transactions or categories ends their cached reads (ledger.cached_reads).

The signals cover every save and delete through the ORM (services, admin, history restore,
cascades); the writes that bypass them (conditional UPDATEs, bulk inserts) call
`cached_reads.ledger_changed` themselves.
"""

from typing import Any

from ledger import cached_reads


def ledger_row_written(sender: Any, instance: Any, **kwargs: Any) -> None:
    cached_reads.ledger_changed(instance.owner_id)
