"""edgar_ingest: SEC EDGAR Form D filings into SQL, every version of every offering."""

__version__ = "0.1.0"
