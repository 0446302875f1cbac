"""The registry of record: current records, their raw source documents, change history, harvest runs.

SQLite by default, PostgreSQL for a deployment, both through SQLAlchemy. The search index is
derived from this store and can be rebuilt from it at any time without re-harvesting.
"""

from store.store import ChangeKind, RunStatus, Store, StoreError

__all__ = ["ChangeKind", "RunStatus", "Store", "StoreError"]
