"""Data-set archives remember how the server identified them, so a rerun need not download them.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

Frozen on purpose, like the others (no import of the package's models).

``dataset_archives.etag`` and ``dataset_archives.last_modified``: the ``ETag`` and
``Last-Modified`` headers of the answer that brought the archive, as sent. A later backfill
gives them back (``If-None-Match``, ``If-Modified-Since``); a server that finds the archive
unchanged answers 304 and the stored copy (the load's raw document) is read instead of the
network. NULL where the server sent neither, and for loads made before this revision until
the next backfill downloads their archive once more (``bulk`` then keeps the validators on the
loads of the same bytes).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("dataset_archives", sa.Column("etag", sa.Text(), nullable=True))
    op.add_column("dataset_archives", sa.Column("last_modified", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("dataset_archives") as batch:
        batch.drop_column("last_modified")
        batch.drop_column("etag")
