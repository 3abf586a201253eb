"""``edgar-ingest parse`` through the real entry point (``python -m edgar_ingest``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from edgar_ingest.cli import main

REPO_ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "edgar_ingest", "parse", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=60,
        check=False,
    )


def test_json_output_is_the_full_record_with_exact_amounts(fixtures_dir: Path) -> None:
    result = run_cli(fixtures_dir / "formd" / "full_submission_two_filers.txt", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    record = json.loads(result.stdout)
    assert record["accession_number"] == "0009990001-24-000002"
    assert record["file_number"] == "021-999001"
    assert record["cik"] == "0009990001"
    assert record["header"]["accepted_at"] == "2024-03-04T17:35:12-05:00"
    assert [f["cik"] for f in record["header"]["filers"]] == ["0009990001", "0009990002"]
    offering = record["document"]["offering"]
    assert offering["total_offering_amount"] == "1500000"
    assert offering["total_amount_sold"] == "250000"
    assert offering["minimum_investment"] == "25000"
    assert offering["first_sale_date"] == "2024-02-29"
    assert offering["federal_exemptions"] == ["06b", "3C", "3C.7"]
    assert len(record["document"]["co_issuers"]) == 2


def test_json_writes_amounts_as_strings_and_indefinite_as_null_with_flag(fixtures_dir: Path) -> None:
    result = run_cli(fixtures_dir / "formd" / "indefinite_amounts.xml", "--format", "json")
    assert result.returncode == 0, result.stderr
    offering = json.loads(result.stdout)["document"]["offering"]
    assert offering["total_amount_sold"] == "1234567"
    assert (offering["minimum_investment"], offering["sales_commissions"]) == ("25000", "15000")
    assert (offering["total_offering_amount"], offering["is_offering_amount_indefinite"]) == (None, True)
    assert (offering["total_remaining"], offering["is_remaining_indefinite"]) == (None, True)


def test_default_text_output_summarises_the_filing(fixtures_dir: Path) -> None:
    result = run_cli(fixtures_dir / "formd" / "dissemination.nc")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "Accession number:   0009990001-24-000003" in lines
    assert "Submission type:    D/A" in lines
    assert "Amendment of:       0009990001-24-000001" in lines
    assert "Offering amount:    $1,500,000" in lines
    assert "Issuer:             Example Widget Fund I, L.P. (CIK 0009990001)" in lines


def test_hostile_document_exits_2_with_one_line_on_stderr(tmp_path: Path) -> None:
    hostile = tmp_path / "xxe.xml"
    hostile.write_bytes(
        b'<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
        b"<edgarSubmission><submissionType>D</submissionType><testOrLive>&x;</testOrLive></edgarSubmission>\n"
    )
    result = run_cli(hostile)
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("edgar-ingest: The document declares a DOCTYPE")


def test_missing_file_exits_2_with_one_line_on_stderr(tmp_path: Path) -> None:
    result = run_cli(tmp_path / "absent.xml")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"edgar-ingest: {tmp_path / 'absent.xml'} does not exist; "
        "pass the path of a local .xml, .txt or .nc file."
    ]


@pytest.mark.parametrize("name", ["folder", "not_form_d"])
def test_folder_and_other_documents_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    target = tmp_path
    if name == "not_form_d":
        target = tmp_path / "other.xml"
        target.write_bytes(b"<?xml version='1.0'?><ownershipDocument/>")
    assert main(["parse", str(target)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.splitlines()) == 1


def test_parse_command_has_help_text() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "edgar_ingest", "--help"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0
    assert any(line.split()[:1] == ["parse"] and len(line.split()) > 1 for line in result.stdout.splitlines())


def test_an_oversized_file_is_refused_with_its_real_size(tmp_path: Path, fixtures_dir: Path) -> None:
    big = tmp_path / "big.xml"
    start = (fixtures_dir / "formd" / "indefinite_amounts.xml").read_bytes()
    big.write_bytes(start + b" " * (6_007_495 - len(start)))

    result = run_cli(big)

    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "edgar-ingest: The document is 6,007,495 bytes, above the 5,242,880-byte limit for a Form D; "
        "check that the file really is one EDGAR Form D filing."
    ]


def test_a_document_without_a_submission_type_says_it_is_missing(tmp_path: Path) -> None:
    untyped = tmp_path / "untyped.xml"
    untyped.write_bytes(
        b"<?xml version='1.0'?><edgarSubmission><testOrLive>LIVE</testOrLive></edgarSubmission>"
    )

    result = run_cli(untyped)

    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "edgar-ingest: The document has no <submissionType> (a Form D gives D or D/A there); only Form D "
        "filings can be parsed."
    ]


def _complete_with(fixtures_dir: Path, old: str, new: str) -> bytes:
    content = (fixtures_dir / "formd" / "form_d_complete.xml").read_text(encoding="utf-8")
    assert old in content
    return content.replace(old, new, 1).encode()


# Documents a poisoned or damaged filing may hold (issue 13): each is one sentence, never a traceback.
POISON = {
    "5000-digit count": (
        "<totalNumberAlreadyInvested>12<",
        "<totalNumberAlreadyInvested>" + "9" * 5000 + "<",
    ),
    "grouped digits": ("<totalAmountSold>250000<", "<totalAmountSold>1,234,567<"),
    "child element": ("<totalAmountSold>250000<", "<totalAmountSold>3140000<b/>0<"),
    "other namespace": (
        "<totalAmountSold>250000</totalAmountSold>",
        '<x:totalAmountSold xmlns:x="urn:other">250000</x:totalAmountSold>',
    ),
    "repeated": ("<cik>0009990001</cik>", "<cik>0009990001</cik><cik>0009990002</cik>"),
    "11-digit cik": ("<cik>0009990001<", "<cik>00099900011<"),
    "no entity name": ("<entityName>Example Widget Fund I, L.P.</entityName>", ""),
    "nul byte": ("<city>Springfield<", "<city>Spring\x00field<"),
}


@pytest.mark.parametrize("name", list(POISON))
def test_a_poisoned_document_exits_2_with_one_sentence_naming_the_problem(
    tmp_path: Path, fixtures_dir: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    poisoned = tmp_path / "primary_doc.xml"
    poisoned.write_bytes(_complete_with(fixtures_dir, *POISON[name]))

    assert main(["parse", str(poisoned)]) == 2

    captured = capsys.readouterr()
    assert captured.out == ""
    [line] = captured.err.splitlines()
    assert line.startswith("edgar-ingest: The ")
    assert len(line) < 400


def test_a_poisoned_document_prints_no_traceback_through_the_real_entry_point(
    tmp_path: Path, fixtures_dir: Path
) -> None:
    poisoned = tmp_path / "primary_doc.xml"
    poisoned.write_bytes(_complete_with(fixtures_dir, *POISON["5000-digit count"]))

    result = run_cli(poisoned, "--format", "json")

    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        "edgar-ingest: The Form D has <totalNumberAlreadyInvested>" + "9" * 40 + " [4,960 more characters]"
        "</totalNumberAlreadyInvested>, which is not a whole number from 0 to 999,999,999,999; the document "
        "does not follow the EDGAR Form D schema: fetch it again from EDGAR or report it."
    ]
