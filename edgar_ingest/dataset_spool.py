"""Where a data-set archive's wanted records wait for their join: partitions by accession number.

``datasets`` reads the five child tables in one pass each and cannot assume any row order, so a
filing's rows are only together once every table has been read. They wait here, in one of N
partitions chosen by the accession number's last digits: in memory when the archive is small,
else in anonymous temporary files (deleted by the OS even after a crash), and the join then takes
one partition at a time, so memory stays flat whatever the quarter's size.
"""

from __future__ import annotations

import marshal
import tempfile
from typing import IO, Final

__all__ = ["MAX_PARTITIONS", "PARTITION_BYTES", "SPOOL_FLUSH_ROWS", "Item", "Spool", "partition_count"]

# (ACCESSIONNUMBER as written, a code naming its table and first line, record text): one object
# fewer to build, spool and load per record than a separate line and table.
Item = tuple[str, int, str]

# Record text per partition: in memory ~2.5x that (~40 MB) while the partition is joined (a
# record is split and cleaned only when its filing is built). Smaller archives join in memory.
PARTITION_BYTES = 16 * 1024 * 1024
MAX_PARTITIONS: Final = 256  # temporary files open at once; a 60,000-filing quarter needs ~10
SPOOL_FLUSH_ROWS = 32_768  # records buffered across all partitions before they go to disk (~6 MB)
_LENGTH: Final = 8  # bytes of the length that precedes each spooled chunk


def partition_count(total_bytes: int) -> int:
    """How many partitions keep one partition's record text near ``PARTITION_BYTES``."""
    return max(1, min(MAX_PARTITIONS, -(-total_bytes // PARTITION_BYTES)))


def partitions_by_suffix(partitions: int) -> dict[str, int]:
    """Partition by an accession number's last three digits (a filer agent's sequence number:
    uniform enough), with a dict, not hash(): an archive always yields its records in one order."""
    return {f"{number:03d}": number % partitions for number in range(1000)}


class Spool:
    """The wanted records, by partition: in memory for one partition, else in anonymous temp files.

    Records go through ``buffers`` (appended by the caller's loop, not through a method: ~1M
    records; the caller reports each block with ``added``) and are written ``SPOOL_FLUSH_ROWS``
    at a time, each chunk one ``marshal.dumps`` (C, builtins only; a record is one string, not
    its fields) behind its length. ``marshal.load`` from a file object reads each object
    separately: ~30x slower.
    """

    def __init__(self, partitions: int) -> None:
        self.partitions = partitions
        self.buffers: list[list[Item]] = [[] for _ in range(partitions)]
        # TemporaryFile: unlinked at once, so the OS frees the space even if the process dies.
        self._files: list[IO[bytes]] = []
        for _ in range(partitions if partitions > 1 else 0):
            self._files.append(tempfile.TemporaryFile())  # noqa: SIM115  (closed by close())
        self._buffered = 0

    @property
    def in_memory(self) -> bool:
        return not self._files

    def added(self, count: int) -> None:
        """``count`` records were appended to ``buffers``: write them out once enough wait."""
        if self.in_memory:
            return
        self._buffered += count
        if self._buffered >= SPOOL_FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        for buffer, file in zip(self.buffers, self._files, strict=False):
            if buffer:
                chunk = marshal.dumps(buffer)
                file.write(len(chunk).to_bytes(_LENGTH, "little"))
                file.write(chunk)
                buffer.clear()
        self._buffered = 0

    def take(self, partition: int) -> list[Item]:
        """Every record of ``partition`` in the order added; its storage is released."""
        if self.in_memory:
            kept, self.buffers[partition] = self.buffers[partition], []
            return kept
        self.flush()
        file = self._files[partition]
        file.seek(0)
        items: list[Item] = []
        while length := int.from_bytes(file.read(_LENGTH), "little"):
            items.extend(marshal.loads(file.read(length)))
        file.truncate(0)
        return items

    def close(self) -> None:
        for file in self._files:
            file.close()
