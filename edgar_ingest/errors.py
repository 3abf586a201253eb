"""Errors that users can act on. Each carries one sentence that says what to do."""

from __future__ import annotations


class EdgarIngestError(Exception):
    """Base of every error this package raises on purpose."""


class ConfigError(EdgarIngestError):
    """A wrong setting: the command stops at start (exit code 2)."""


class ParseError(EdgarIngestError):
    """A document that cannot be turned into a Form D record; the run records it and goes on."""


class NotFormDError(ParseError):
    """The document is well-formed but is not a Form D (other root or submission type)."""


class MalformedDocumentError(ParseError):
    """The document is not well-formed XML or a readable SEC full submission."""


class UnsafeDocumentError(ParseError):
    """The document is too large or uses DTDs/entities that a Form D never needs."""


class FetchError(EdgarIngestError):
    """A request that could not be completed after the retries the policy allows."""


class DatasetsPageError(FetchError):
    """The Form D data sets' index page was read but lists no archive: moved or redesigned.

    A :class:`FetchError` rather than a :class:`ParseError`: no filing is at fault (there is
    nothing to record as a failed document and go on with), the road to the data sets is closed
    for the whole run, exactly as when the page cannot be fetched; a distinct class lets a caller
    fall back to the quarterly indexes for it alone.
    """


class UndeclaredUserAgentError(FetchError):
    """The SEC refused the User-Agent ("Undeclared Automated Tool"): not retryable."""


class RateLimitBlockedError(FetchError):
    """The SEC's rate block did not lift after the configured pauses."""


class LockHeldError(EdgarIngestError):
    """Another run holds the pipeline lock (exit code 75)."""


class LockLostError(EdgarIngestError):
    """A running job lost the pipeline lock and could not take it back: it stops (exit code 1).

    Not a :class:`LockHeldError`: this run was running; its message starts "lost the run lock".
    """


class NoDatabaseError(EdgarIngestError):
    """A command that only reads was pointed at a SQLite file that does not exist (exit code 1)."""
