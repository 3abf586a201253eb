"""The SEC's quarterly Form D data sets: one zip archive in, the same ``FormDFiling`` records out.

A quarter's archive holds six tab-separated tables (FORMDSUBMISSION, ISSUERS, OFFERING,
RECIPIENTS, RELATEDPERSONS, SIGNATURES), extracted by the SEC from the filed XML and joined by
ACCESSIONNUMBER. ``read_dataset_archive`` joins them back into one record per filing, equal to the
record ``parse.parse_document`` makes from that filing's XML (tested field by field), except
what the data set cannot know: the header carries no acceptance time and names the primary issuer
as its one filer, and ``source`` is ``dataset``. Pure: the archive path in, records out; no
network, no database. The normalisation rules are ``normalise``'s, shared with the XML parser.

Strictness: a value that the Form D schema does not allow is never rounded or guessed. The
filing it belongs to becomes a ``DatasetRowFailure`` (archive, table, line, column, value) and
the rest of the quarter loads. Amounts and counts must be ASCII digits (at most 12), optionally
followed by a zero fraction (``.0``/``.00``, which changes nothing); ``Indefinite`` where the
schema allows it. The XML parser is more lenient (it reads ``1,000`` and fractions): EDGAR
validates every filing against the schema, so the two differ only on input EDGAR never accepts.

Memory stays flat whatever the quarter's size, without assuming any row order: a first pass
reads FORMDSUBMISSION (deciding which filings are wanted: date range, duplicates, bad rows),
a second pass streams the five other tables and spools every wanted row into one of N
partitions by accession number (anonymous temporary files, deleted by the OS even after a
crash), and the third pass joins one partition at a time. N is chosen from the members'
uncompressed size so that one partition's rows stay ~16 MB of text; an archive smaller than that
is joined in memory. Records come out partition by partition, in FORMDSUBMISSION order within
each partition: callers must not rely on the order. Nothing is yielded before the whole archive
has been read, so an archive found damaged (``DatasetArchiveError``) has yielded nothing.

Speed (``bench/datasets_parse_bench.py``: a 60,000-filing quarter, 1.04M rows, 164 MB of text):
~10,000 filings/s at best on the 2-core dev machine. Text is decoded and split into lines a 1 MB
block at a time, a record is split on tabs (the csv module reads only records holding a quote:
4x faster), and its text is spooled whole, split once at the join. Of the time, reading and
spooling take ~1/4, the join's bookkeeping ~1/5, cleaning the fields (strip, placeholders, ~50 ns
a field) ~1/5 and building the records ~1/3: per-record and per-field Python work, which a
search for whole blocks that could skip it (tried) costs more than it saves.

Decoding: UTF-8 (a BOM is tolerated). An undecodable byte is neither replaced nor re-decoded as
another encoding: either would put a guessed name into a record that claims to equal the filing.
The filing whose row holds it becomes a ``DatasetRowFailure`` naming the column and the bytes
(its own XML, the authority, can be fetched), and the rest of the quarter loads.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import threading
import zipfile
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from operator import itemgetter
from pathlib import Path, PurePosixPath
from typing import IO, Final

from edgar_ingest.dataset_rows import (
    ISSUER_COLUMNS,
    OFFERING_COLUMNS,
    PERSON_COLUMNS,
    RECIPIENT_COLUMNS,
    SIGNATURE_COLUMNS,
    SUBMISSION_COLUMNS,
    BadValue,
    Entry,
    Row,
    RowBuilder,
    RowError,
)
from edgar_ingest.dataset_spool import Item, Spool, partition_count, partitions_by_suffix
from edgar_ingest.errors import ParseError
from edgar_ingest.normalise import ACCESSION_DASHED, PLACEHOLDERS, normalise_accession_number
from edgar_ingest.records import FormDFiling

__all__ = [
    "TABLES",
    "DatasetArchiveError",
    "DatasetNotice",
    "DatasetRowFailure",
    "count_dataset_filings",
    "read_dataset_archive",
]


@dataclass(frozen=True, slots=True)
class DatasetRowFailure:
    """One filing that could not be read; the rest of the quarter loads."""

    archive: str  # archive file name, e.g. "2024q1_d.zip"
    table: str  # "OFFERING"
    line: int  # 1-based physical line in that member (header = 1)
    accession_number: str | None
    reason: str  # one sentence naming the column and the bad value

    def __str__(self) -> str:
        return f"{self.archive} {self.table} line {self.line}: {self.reason}"


@dataclass(frozen=True, slots=True)
class DatasetNotice:
    """Not a failure, worth a line in the report: a duplicate kept once, orphan child rows."""

    archive: str
    table: str
    line: int
    accession_number: str | None
    message: str

    def __str__(self) -> str:
        return f"{self.archive} {self.table} line {self.line}: {self.message}"


class DatasetArchiveError(ParseError):
    """The archive as a whole is unusable: not a zip, damaged, or a required table missing."""


DatasetItem = FormDFiling | DatasetRowFailure | DatasetNotice

SUBMISSIONS, ISSUERS, OFFERING = "FORMDSUBMISSION", "ISSUERS", "OFFERING"
RECIPIENTS, PERSONS, SIGNATURES = "RECIPIENTS", "RELATEDPERSONS", "SIGNATURES"
# The 2026 layout of each table: a member's columns are mapped to these by name.
TABLES: Final[dict[str, tuple[str, ...]]] = {
    SUBMISSIONS: SUBMISSION_COLUMNS,
    ISSUERS: ISSUER_COLUMNS,
    OFFERING: OFFERING_COLUMNS,
    RECIPIENTS: RECIPIENT_COLUMNS,
    PERSONS: PERSON_COLUMNS,
    SIGNATURES: SIGNATURE_COLUMNS,
}
_REQUIRED_TABLES = (SUBMISSIONS, ISSUERS, OFFERING)  # the others missing: no rows
# Without these a table's rows cannot become records at all: the archive is refused.
_REQUIRED_COLUMNS = {
    SUBMISSIONS: ("ACCESSIONNUMBER", "FILING_DATE", "SUBMISSIONTYPE"),
    ISSUERS: ("ACCESSIONNUMBER", "IS_PRIMARYISSUER_FLAG", "CIK"),
    OFFERING: ("ACCESSIONNUMBER",),
    RECIPIENTS: ("ACCESSIONNUMBER",),
    PERSONS: ("ACCESSIONNUMBER",),
    SIGNATURES: ("ACCESSIONNUMBER",),
}
_CHILD_TABLES = (ISSUERS, OFFERING, RECIPIENTS, PERSONS, SIGNATURES)
_TABLE_IDS = {name: index for index, name in enumerate(_CHILD_TABLES)}

_READ_BUFFER = 256 * 1024
_BLOCK_CHARS = 1 << 20  # characters decoded and split into lines at a time

# ----------------------------------------------------------------------------- decoding

# TextIOWrapper decodes a block at a time. This handler keeps an undecodable byte as a lone
# surrogate, as "surrogateescape" does (so one bad byte neither stops the member nor shifts a
# column), and counts it per thread: the reader looks for surrogates only in the blocks whose
# decoding met one (valid UTF-8 is the rule).
_DECODE_ERRORS = threading.local()
_surrogateescape = codecs.lookup_error("surrogateescape")


def _escape_and_count(error: UnicodeError) -> tuple[str | bytes, int]:
    _DECODE_ERRORS.count = getattr(_DECODE_ERRORS, "count", 0) + 1
    return _surrogateescape(error)


_ERRORS_HANDLER = "edgar_ingest.datasets.surrogateescape"
codecs.register_error(_ERRORS_HANDLER, _escape_and_count)
_SURROGATE = re.compile("[\udc80-\udcff]")


def _decode_errors() -> int:
    count: int = getattr(_DECODE_ERRORS, "count", 0)
    return count


def _undecodable(fields: list[str], header: list[str]) -> str | None:
    """The reason sentence when a field holds a byte that is not UTF-8, else None."""
    for column, value in zip(header, fields, strict=False):
        if _SURROGATE.search(value):
            raw = value.encode("utf-8", "surrogateescape")
            return f"{column} holds bytes that are not UTF-8 ({raw[:60]!r}); the row was not guessed at"
    return None


# ----------------------------------------------------------------------------- records and rows


class _Tsv(csv.Dialect):
    """The data sets' text: tab-separated, a field holding a quote is quoted (quotes doubled)."""

    delimiter = "\t"
    quotechar = '"'
    doublequote = True
    skipinitialspace = False
    lineterminator = "\n"
    quoting = csv.QUOTE_MINIMAL
    strict = False


def _split(record: str) -> list[str]:
    """The fields of one record (its text without the line end).

    A record without a quote character (nearly all) is split on tabs, ~4x faster than the csv
    module; one with a quote is read by the csv module: quoted fields, doubled quotes, tabs and
    line ends inside quotes.
    """
    if '"' not in record:
        return record.split("\t")
    return next(csv.reader([record], _Tsv))


# An empty field and the EDGAR tool's "None" placeholder read as None (normalise.PLACEHOLDERS),
# through ``_CLEAN(text, text)``.
_CLEAN_TEXTS: dict[str, str | None] = {"": None}
_CLEAN_TEXTS.update(dict.fromkeys(PLACEHOLDERS))
_CLEAN = _CLEAN_TEXTS.get


@dataclass(frozen=True, slots=True)
class _Layout:
    """How one member's columns map to its table's 2026 layout (``dataset_rows``)."""

    table: str
    header: list[str]
    width: int  # fields per record
    key_at: int  # where ACCESSIONNUMBER is
    # The 2026 columns in order (absent ones read an empty field appended to the record); None
    # when the member has exactly those columns in that order.
    pick: Callable[[list[str]], tuple[str, ...]] | None
    pads: bool

    def row(self, record: str) -> Row | None:
        """The record's cleaned row, or None when its width is not the header's.

        Cleaned as the XML parser treats element text: stripped, and an empty text or the
        ``None`` placeholder is None. ~50 ns a field, the fastest exact form measured; a search of
        each 1 MB block for the records that could skip the strip cost more than it saved.
        """
        fields = record.split("\t") if '"' not in record else _split(record)
        if len(fields) != self.width:
            return None
        if self.pads:
            fields.append("")
        clean = _CLEAN
        picked = fields if self.pick is None else self.pick(fields)
        return [clean(value, value) for value in map(str.strip, picked)]


def _layout(archive: str, table: str, header: list[str]) -> _Layout:
    positions: dict[str, int] = {}
    for position, name in enumerate(header):
        positions.setdefault(name, position)  # a repeated column name: the first one counts
    missing = [name for name in _REQUIRED_COLUMNS[table] if name not in positions]
    if missing:
        raise _archive_error(
            archive,
            f"has a {table} table without the column {', '.join(missing)}; it is not a Form D data "
            "set in a layout this program knows",
        )
    width = len(header)
    columns = TABLES[table]
    in_order = tuple(header) == columns
    return _Layout(
        table=table,
        header=header,
        width=width,
        key_at=positions["ACCESSIONNUMBER"],
        pick=None if in_order else itemgetter(*[positions.get(name, width) for name in columns]),
        pads=not all(name in positions for name in columns),
    )


def _width_reason(fields: list[str], layout: _Layout) -> str:
    return (
        f"the row has {len(fields)} fields where the header of {layout.table} has {layout.width}; "
        "the table is misaligned there"
    )


# ----------------------------------------------------------------------------- the archive


@dataclass(frozen=True, slots=True)
class _Member:
    table: str
    info: zipfile.ZipInfo


def _archive_error(archive: str, detail: str) -> DatasetArchiveError:
    return DatasetArchiveError(f"The Form D data set archive {archive} {detail}.")


def _open_zip(path: Path, archive: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise _archive_error(
            archive, f"is not a readable zip file ({exc}); download the quarter's archive again"
        ) from None
    except OSError as exc:
        raise _archive_error(archive, f"cannot be opened ({exc.strerror or exc})") from None


def _members(archive: str, zf: zipfile.ZipFile) -> dict[str, _Member]:
    """The archive's tables by name, matched by file name in any folder and any case."""
    found: dict[str, _Member] = {}
    for info in zf.infolist():
        if info.is_dir():
            continue
        name = PurePosixPath(info.filename.replace("\\", "/")).name
        stem, _, extension = name.rpartition(".")
        table = stem.upper()
        if extension.lower() != "tsv" or table not in TABLES:
            continue
        if table in found:
            raise _archive_error(
                archive,
                f"holds two {table} tables ({found[table].info.filename} and {info.filename}); "
                "it is not one quarter's data set",
            )
        found[table] = _Member(table, info)
    missing = [table for table in _REQUIRED_TABLES if table not in found]
    if missing:
        raise _archive_error(
            archive,
            f"has no {' or '.join(f'{table}.tsv' for table in missing)}: it is not a Form D data set "
            "(or it is incomplete); download the quarter's archive again",
        )
    return found


@dataclass(frozen=True, slots=True)
class _Block:
    """The records of ~1 MB of a member, with the physical line where each starts."""

    records: list[str]
    numbers: Sequence[int]


class _TableReader:
    """The records of one member (text without the line end), a block at a time."""

    def __init__(self, archive: str, zf: zipfile.ZipFile, member: _Member) -> None:
        self.archive = archive
        self.table = member.table
        self.member = member
        self._zf = zf
        self._binary: IO[bytes] | None = None
        self.layout: _Layout | None = None  # set from the header before the first block
        # Lines whose record holds bytes that are not UTF-8 -> the reason; filled while reading.
        self.undecodable: dict[int, str] = {}
        self._decoded_badly_before = False

    def __enter__(self) -> _TableReader:
        try:
            self._binary = self._zf.open(self.member.info)
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, zlib.error) as exc:
            raise self._damaged(exc) from None
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._binary is not None:
            self._binary.close()

    def _damaged(self, exc: BaseException) -> DatasetArchiveError:
        detail = str(exc) or type(exc).__name__
        return _archive_error(
            self.archive,
            f"is damaged: its member {self.member.info.filename} cannot be read ({detail}); "
            "download the quarter's archive again",
        )

    def blocks(self) -> Iterator[_Block]:
        """The member's records after the header, block by block; sets ``layout`` first."""
        assert self._binary is not None, "use the reader as a context manager"
        buffered = io.BufferedReader(self._binary, _READ_BUFFER)  # type: ignore[type-var]
        text = io.TextIOWrapper(buffered, encoding="utf-8-sig", errors=_ERRORS_HANDLER, newline="")
        source = _Lines(text)
        number = 0  # physical lines before the block
        try:
            errors = _decode_errors()
            lines = source.read()
            if lines is None:
                return  # an empty member: no header, no records
            header_text, index = _quoted_record(lines, 0, source) if '"' in lines[0] else (lines[0], 1)
            header = [name.strip().upper() for name in _split(header_text)]
            self.layout = _layout(self.archive, self.table, header)
            while True:
                records, numbers, number = _block_records(lines, index, number, source)
                # The decoder runs a block ahead of the lines (the carry): check this block when
                # its reading or the one before met a byte that is not UTF-8.
                decoded_badly, errors = errors != _decode_errors(), _decode_errors()
                if decoded_badly or self._decoded_badly_before:
                    for record, line in zip(records, numbers, strict=True):
                        reason = _undecodable(_split(record), header)
                        if reason is not None:
                            self.undecodable[line] = reason
                self._decoded_badly_before = decoded_badly
                if records:
                    yield _Block(records, numbers)
                lines = source.read()
                if lines is None:
                    return
                index = 0
        except csv.Error as exc:
            raise _archive_error(
                self.archive,
                f"has a {self.table} table that is not readable tab-separated text after line "
                f"{number} ({exc}); download the quarter's archive again",
            ) from None
        except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as exc:
            raise self._damaged(exc) from None
        finally:
            text.detach()  # the member is closed by __exit__, not through the wrappers


class _Lines:
    """A text stream as blocks of complete lines (~1 MB each; a CR before a line end dropped).

    One ``read`` and one ``split`` a block: ~3x faster than iterating the stream line by line.
    """

    def __init__(self, text: IO[str]) -> None:
        self._text = text
        self._carry = ""
        self.quoted = False  # whether the last block read holds a quote character

    def read(self) -> list[str] | None:
        """The next block's lines, or None at the end."""
        while True:
            chunk = self._text.read(_BLOCK_CHARS)
            if not chunk:
                if not self._carry:
                    return None
                body, self._carry = self._carry, ""
                break
            block = self._carry + chunk
            cut = block.rfind("\n")
            if cut >= 0:
                body, self._carry = block[:cut], block[cut + 1 :]
                break
            self._carry = block
        lines = body.split("\n")
        self.quoted = '"' in body  # one memchr, not a test per line
        if "\r" in body:  # CRLF line ends (an XML parser reads CRLF inside a text as LF, too)
            lines = [line[:-1] if line[-1:] == "\r" else line for line in lines]
        return lines


def _block_records(
    lines: list[str], index: int, number: int, source: _Lines
) -> tuple[list[str], Sequence[int], int]:
    """(records, the physical line where each starts, lines read so far) of one block.

    A line without a quote character is one record; a line with one starts a record that the
    csv module reads, across lines (and blocks) when a quoted field holds line ends.
    """
    records: list[str]
    numbers: Sequence[int]
    if not source.quoted:
        records = lines[index:] if index else lines
        numbers = range(number + index + 1, number + len(lines) + 1)
        number += len(lines)
    else:
        records, starts = [], []
        number += index
        position = index
        while position < len(lines):
            line = lines[position]
            number += 1
            starts.append(number)
            if '"' in line:
                line, taken = _quoted_record(lines, position, source)
                position += taken
                number += taken - 1
            else:
                position += 1
            records.append(line)
        numbers = starts
    if "" in records:  # blank lines (a trailing one, usually) are no records
        kept = [position for position, record in enumerate(records) if record]
        records = [records[position] for position in kept]
        numbers = [numbers[position] for position in kept]
    return records, numbers, number


def _quoted_record(lines: list[str], index: int, source: _Lines) -> tuple[str, int]:
    """The text of the record that starts at ``lines[index]`` and how many lines it takes.

    The csv module decides where the record ends (a line end inside quotes does not end it); it
    asks for lines only until the record is complete. When the record runs past its block, the
    next block's lines are appended to ``lines``.
    """
    taken = 0
    ended = False

    def feed() -> Iterator[str]:
        nonlocal taken, ended
        position = index
        while True:
            if position >= len(lines):
                more = source.read()
                if more is None:
                    ended = True
                    return
                lines.extend(more)
            taken += 1
            yield lines[position] + "\n"
            position += 1

    next(csv.reader(feed(), _Tsv), None)
    if ended:  # the csv module wanted more: a quote opened a field that no quote closes
        raise csv.Error("a quoted field is never closed")
    return "\n".join(lines[index : index + taken]), taken


# ----------------------------------------------------------------------------- partitions

# A spooled record's code (``dataset_spool.Item``): its first line * 8 + its table's id.
_SUBMISSION_ID = 7  # the child tables are 0-4 (_TABLE_IDS)
_TABLE_BITS = 3
_TABLE_MASK = 7


# ----------------------------------------------------------------------------- reading


def read_dataset_archive(
    path: Path,
    *,
    archive_name: str | None = None,
    start: date | None = None,
    end: date | None = None,
) -> Iterator[DatasetItem]:
    """Every filing of one data set archive, or the reason it could not be read.

    Only filings whose FILING_DATE is in [start, end) are built (either bound may be None); the
    records of the others are skipped after a look at their key. Yields ``FormDFiling`` records
    (``source`` ``dataset``), ``DatasetRowFailure`` for filings that cannot be read and
    ``DatasetNotice`` for what a report should mention; raises ``DatasetArchiveError``, before
    yielding anything, when the archive as a whole is unusable.
    """
    archive = archive_name or Path(path).name
    with _open_zip(Path(path), archive) as zf:
        members = _members(archive, zf)
        spool = Spool(partition_count(sum(member.info.file_size for member in members.values())))
        try:
            reading = _Reading(archive, zf, spool)
            reading.submissions(members[SUBMISSIONS], start, end)
            for table in _CHILD_TABLES:
                if table in members:
                    reading.children(members[table])
            pending, reading.pending = reading.pending, []
            yield from pending  # the archive has been read whole: nothing can fail it now
            yield from reading.join()
        finally:
            spool.close()


def count_dataset_filings(path: Path, start: date | None = None, end: date | None = None) -> int:
    """The number of FORMDSUBMISSION records (filings, repeats included): for progress and ETA.

    With ``start`` or ``end``, only the records filed in [start, end) (a range that cuts a
    quarter): each record's FILING_DATE is read then, a record whose date cannot be read counted
    (the load reports it as a failure, which progress counts too).
    """
    archive = Path(path).name
    with _open_zip(Path(path), archive) as zf:
        member = _members(archive, zf)[SUBMISSIONS]
        with _TableReader(archive, zf, member) as table:
            if start is None and end is None:
                return sum(len(block.records) for block in table.blocks())
            builder = RowBuilder()
            count = 0
            for block in table.blocks():
                layout = table.layout
                assert layout is not None
                for record in block.records:
                    values = layout.row(record)
                    try:
                        filed = builder.filing_date(values[2]) if values is not None else None
                    except BadValue:
                        filed = None
                    if filed is None or ((start is None or filed >= start) and (end is None or filed < end)):
                        count += 1
            return count


class _Reading:
    """One read of one archive: the passes over its members, then the join per partition."""

    def __init__(self, archive: str, zf: zipfile.ZipFile, spool: Spool) -> None:
        self.archive = archive
        self.zf = zf
        self.spool = spool
        self.builder = RowBuilder()
        # Failures and notices of the reading passes, yielded once the whole archive is read.
        self.pending: list[DatasetItem] = []
        self.layouts: dict[int, _Layout] = {}  # by table id
        # Keys are ACCESSIONNUMBER as written (the SEC writes it the same in every table: a row is
        # joined by that text, and only a row whose text is not in FORMDSUBMISSION is normalised).
        self.known: set[str] = set()  # every ACCESSIONNUMBER of FORMDSUBMISSION (others: orphans)
        self.wanted: dict[str, str] = {}  # the filings to build: as written -> normalised
        self.by_accession: dict[str, str] = {}  # normalised -> as written, the first row's
        self.failed: dict[str, DatasetRowFailure] = {}  # wanted filings with an undecodable row

    def _failure(self, table: str, line: int, accession: str | None, reason: str) -> DatasetRowFailure:
        return DatasetRowFailure(self.archive, table, line, accession, reason)

    def _notice(self, table: str, line: int, accession: str | None, message: str) -> None:
        self.pending.append(DatasetNotice(self.archive, table, line, accession, message))

    def submissions(self, member: _Member, start: date | None, end: date | None) -> None:
        """Pass 1: which filings to build (in the date range, first of their accession, readable)."""
        partition_of = partitions_by_suffix(self.spool.partitions).get
        buffers = self.spool.buffers
        known, wanted, pending, by_accession = self.known, self.wanted, self.pending, self.by_accession
        with _TableReader(self.archive, self.zf, member) as table:
            for block in table.blocks():
                layout = table.layout
                assert layout is not None
                self.layouts[_SUBMISSION_ID] = layout
                for line, record in zip(block.numbers, block.records, strict=True):
                    fields = _split(record)
                    if len(fields) != layout.width:
                        if not record.isspace():
                            at = layout.key_at
                            misaligned = fields[at].strip() if at < len(fields) else ""
                            reason = _width_reason(fields, layout)
                            pending.append(self._failure(SUBMISSIONS, line, misaligned or None, reason))
                            known.add(misaligned)
                        continue
                    values = layout.row(record)
                    assert values is not None
                    key = values[0]
                    if key is None:
                        pending.append(self._failure(SUBMISSIONS, line, None, "ACCESSIONNUMBER is empty"))
                        continue
                    accession = key if ACCESSION_DASHED.fullmatch(key) else normalise_accession_number(key)
                    if not ACCESSION_DASHED.fullmatch(accession):
                        reason = f"ACCESSIONNUMBER holds {key[:40]!r}, which is not an accession number"
                        pending.append(self._failure(SUBMISSIONS, line, None, reason))
                        known.add(key)
                        continue
                    if accession in by_accession:
                        message = "repeats an ACCESSIONNUMBER: the first row was kept"
                        # Rows naming the repeat's spelling join the first row's filing (_alias).
                        self._notice(SUBMISSIONS, line, accession, message)
                        continue
                    known.add(key)
                    by_accession[accession] = key
                    if table.undecodable and line in table.undecodable:
                        pending.append(self._failure(SUBMISSIONS, line, accession, table.undecodable[line]))
                        continue
                    try:
                        filed = self.builder.filing_date(values[2])
                    except BadValue as exc:
                        pending.append(self._failure(SUBMISSIONS, line, accession, exc.reason))
                        continue
                    if (start is not None and filed < start) or (end is not None and filed >= end):
                        continue
                    wanted[key] = accession
                    buffers[partition_of(key[-3:], 0)].append(
                        (key, line << _TABLE_BITS | _SUBMISSION_ID, record)
                    )

    def children(self, member: _Member) -> None:
        """Pass 2: the wanted filings' records of one child table, into the partitions.

        The hot loop of the whole read (~1M records a quarter): a record is not split here, only
        its key cut out, and its text spooled whole (see ``dataset_spool.Spool``).
        """
        table_id = _TABLE_IDS[member.table]
        partition_of = partitions_by_suffix(self.spool.partitions).get
        buffers, spool = self.spool.buffers, self.spool
        known, wanted = self.known, self.wanted
        orphans: set[str] = set()
        with _TableReader(self.archive, self.zf, member) as table:
            for block in table.blocks():
                assert table.layout is not None
                self.layouts[table_id] = table.layout
                key_at = table.layout.key_at
                undecodable = table.undecodable
                for line, record in zip(block.numbers, block.records, strict=True):
                    # The key first: the records of filings outside the date range cost only this.
                    # Not stripped: a key with spaces is not in ``wanted`` and _alias finds it.
                    if key_at == 0 and record[0] != '"':
                        tab = record.find("\t")  # not partition(): it copies the rest of the record
                        key = record[:tab] if tab >= 0 else record
                    else:
                        fields = _split(record)
                        key = fields[key_at] if key_at < len(fields) else ""
                    if key not in wanted:
                        if key in known:
                            continue  # a filing outside the date range, repeated or failed
                        alias = self._alias(key, member.table, line, record, orphans)
                        if alias is None:
                            continue
                        key = alias
                    if undecodable and line in undecodable:
                        failure = self._failure(member.table, line, wanted[key], undecodable[line])
                        self.failed.setdefault(key, failure)
                        continue
                    buffers[partition_of(key[-3:], 0)].append((key, line << _TABLE_BITS | table_id, record))
                spool.added(len(block.records))  # by block, not by record: a block adds at most ~1 MB

    def _alias(self, key: str, table: str, line: int, record: str, orphans: set[str]) -> str | None:
        """The key of the wanted filing that ``key`` names in another spelling, or None (noted
        once per table when FORMDSUBMISSION lacks the accession)."""
        written = self.by_accession.get(normalise_accession_number(key))
        if written is not None:
            return written if written in self.wanted else None
        if key not in orphans and not record.isspace():
            orphans.add(key)
            message = (
                "names an ACCESSIONNUMBER that FORMDSUBMISSION lacks: its rows were ignored"
                if key
                else "has no ACCESSIONNUMBER: the row was ignored"
            )
            self._notice(table, line, normalise_accession_number(key) or None, message)
        return None

    def join(self) -> Iterator[DatasetItem]:
        """Pass 3: per partition, each wanted filing's records joined into its record."""
        for partition in range(self.spool.partitions):
            submissions: list[Item] = []
            groups: defaultdict[str, list[Item]] = defaultdict(list)
            for item in self.spool.take(partition):
                if item[1] & _TABLE_MASK == _SUBMISSION_ID:
                    submissions.append(item)
                else:
                    groups[item[0]].append(item)
            for key, code, record in submissions:
                failure = self.failed.get(key)
                if failure is not None:
                    yield failure
                    continue
                try:
                    yield self._filing(key, code >> _TABLE_BITS, record, groups.pop(key, ()))
                except RowError as exc:
                    yield DatasetRowFailure(self.archive, exc.table, exc.line, self.wanted[key], exc.reason)
                notices = self.builder.notices
                if notices:
                    for table, notice_line, message in notices:
                        yield DatasetNotice(self.archive, table, notice_line, self.wanted[key], message)
                    notices.clear()

    def _filing(self, key: str, line: int, record: str, items: Iterable[Item]) -> FormDFiling:
        """The record of one filing from its records; ``RowError`` names what prevents it."""
        accession = self.wanted[key]
        layouts = self.layouts
        tables: list[list[Entry]] = [[], [], [], [], []]  # by table id (_CHILD_TABLES)
        for _, code, row_record in items:
            table_id = code & _TABLE_MASK
            layout = layouts[table_id]
            row = layout.row(row_record)
            if row is None:
                raise RowError(layout.table, code >> _TABLE_BITS, _width_reason(_split(row_record), layout))
            tables[table_id].append((code >> _TABLE_BITS, row))
        offerings = tables[_OFFERING_ID]
        if len(offerings) > 1:  # noted with the builder's notices of this filing
            message = "repeats an ACCESSIONNUMBER: the first OFFERING row was kept"
            self.builder.notices.append((OFFERING, offerings[1][0], message))
        submission = layouts[_SUBMISSION_ID].row(record)
        assert submission is not None, "pass 1 kept only records of the header's width"
        return self.builder.filing(
            accession,
            (line, submission),
            offerings[0] if offerings else None,
            tables[_ISSUERS_ID],
            tables[_PERSONS_ID],
            tables[_RECIPIENTS_ID],
            tables[_SIGNATURES_ID],
        )


_ISSUERS_ID, _OFFERING_ID, _RECIPIENTS_ID, _PERSONS_ID, _SIGNATURES_ID = (
    _TABLE_IDS[table] for table in _CHILD_TABLES
)
