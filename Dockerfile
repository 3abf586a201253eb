# edgar-ingest with the PostgreSQL driver. Build from the repository root:
#   docker build -t edgar-ingest .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY pyproject.toml README.md ./
COPY edgar_ingest ./edgar_ingest
COPY migrations ./migrations
RUN pip install '.[postgres]' && rm -rf /src

RUN useradd --create-home --uid 10001 edgar
USER edgar
WORKDIR /home/edgar

ENTRYPOINT ["edgar-ingest"]
CMD ["--help"]
