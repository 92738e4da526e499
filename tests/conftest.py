from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _db_access_for_all(db: None) -> None:
    """Most tests touch the real database (factories, services); concurrency tests opt into
    transactional_db themselves."""
