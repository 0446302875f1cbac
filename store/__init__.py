"""The registry of record: current records, their raw source documents, change history, harvest runs.

SQLite by default, PostgreSQL for a deployment, both through SQLAlchemy. The search index is
derived from this store and can be rebuilt from it at any time without re-harvesting.
"""

from store.store import ChangeKey, ChangeKind, Facet, FacetFilter, RunStatus, Store, StoredRecord, StoreError

__all__ = ["ChangeKey", "ChangeKind", "Facet", "FacetFilter", "RunStatus", "Store", "StoreError", "StoredRecord"]
