-- Ten questions an analyst asks of the Form D database, each a plain SQL query that runs
-- unchanged on SQLite (sqlite3) and PostgreSQL (psql), and through DuckDB's sqlite and postgres
-- scanners. tests/storage/test_example_queries.py runs every one on both databases and checks
-- its answer. Columns are described in docs/data-dictionary.md.
--
-- Reminders: a D/A restates the whole form, so amounts are cumulative: never add the versions of
-- one offering together (use offerings_latest, or the _change columns). Dates compare with ISO
-- text ('2024-01-01') on both databases; CAST(filing_date AS TEXT) is 'YYYY-MM-DD' on both.

-- 1. The progression of one offering: every version, what it reported and what changed.
SELECT version, accession_number, submission_type, filing_date, total_offering_amount,
       total_amount_sold, amount_sold_change, total_investors, investors_change, valid_to
FROM offering_versions
WHERE file_number = '021-512345'
ORDER BY version;

-- 2. The largest raises of a quarter: money first reported in 2024 Q1 (a version 1 counts in
--    full, an amendment by what it added).
SELECT offering_key, MAX(issuer_name) AS issuer_name,
       SUM(CASE WHEN version = 1 THEN total_amount_sold ELSE amount_sold_change END) AS new_money
FROM offering_versions
WHERE filing_date >= '2024-01-01' AND filing_date < '2024-04-01'
GROUP BY offering_key
ORDER BY new_money DESC, offering_key
LIMIT 5;

-- 3. Offerings whose amount sold grew the most from one version to the next.
SELECT offering_key, issuer_name, version, filing_date, amount_sold_change
FROM offering_versions
WHERE amount_sold_change > 0
ORDER BY amount_sold_change DESC, offering_key, version
LIMIT 10;

-- 4. New offerings (original notices, form D) by month, issuer state and industry.
SELECT SUBSTR(CAST(filing_date AS TEXT), 1, 7) AS filing_month, issuer_state, industry_group,
       COUNT(*) AS new_offerings, SUM(total_amount_sold) AS amount_sold_at_filing
FROM offering_versions
WHERE submission_type = 'D'
GROUP BY SUBSTR(CAST(filing_date AS TEXT), 1, 7), issuer_state, industry_group
ORDER BY filing_month, issuer_state, industry_group;

-- 5. Funds by fund type and federal exemption claimed (an offering claiming two exemptions
--    counts under each).
SELECT o.investment_fund_type, e.exemption_code, COUNT(*) AS offerings,
       SUM(o.total_amount_sold) AS total_amount_sold
FROM offerings_latest o
JOIN filing_exemptions e ON e.filing_id = o.filing_id
WHERE o.industry_group = 'Pooled Investment Fund'
GROUP BY o.investment_fund_type, e.exemption_code
ORDER BY o.investment_fund_type, e.exemption_code;

-- 6. Issuers with the most offerings.
SELECT cik, entity_name, state, offering_count, filing_count, total_amount_sold
FROM issuers_latest
ORDER BY offering_count DESC, total_amount_sold DESC, cik
LIMIT 5;

-- 7. The people behind the three largest raises (related persons of each offering's latest
--    version).
SELECT largest.issuer_name, largest.total_amount_sold,
       TRIM(COALESCE(p.first_name, '') || ' ' || COALESCE(p.middle_name || ' ', '')
            || COALESCE(p.last_name, '')) AS person_name,
       p.relationships
FROM (
    SELECT offering_key, issuer_name, total_amount_sold
    FROM offerings_latest
    WHERE total_amount_sold IS NOT NULL
    ORDER BY total_amount_sold DESC, offering_key
    LIMIT 3
) largest
JOIN offering_related_persons p ON p.offering_key = largest.offering_key
ORDER BY largest.total_amount_sold DESC, largest.offering_key, p.person_index;

-- 8. Offerings whose total offering amount changed between two versions (including to or from
--    Indefinite, where the amount is NULL).
SELECT v.offering_key, v.issuer_name, v.version, v.filing_date,
       p.total_offering_amount AS previous_amount, p.is_offering_amount_indefinite AS was_indefinite,
       v.total_offering_amount AS new_amount, v.is_offering_amount_indefinite AS is_indefinite
FROM offering_versions v
JOIN offering_versions p ON p.offering_key = v.offering_key AND p.version = v.version - 1
WHERE v.total_offering_amount <> p.total_offering_amount
   OR v.is_offering_amount_indefinite <> p.is_offering_amount_indefinite
ORDER BY v.offering_key, v.version;

-- 9. Amendments filed more than a year after the offering's original notice (same day one year
--    later is not "more than"). The year is added on the ISO text, which both databases read.
SELECT v.offering_key, v.issuer_name, o.filing_date AS original_filing_date,
       v.accession_number, v.filing_date AS amendment_filing_date
FROM offering_versions v
JOIN offering_versions o ON o.offering_key = v.offering_key AND o.version = 1
WHERE v.submission_type = 'D/A'
  AND CAST(v.filing_date AS TEXT) >
      CAST(CAST(SUBSTR(CAST(o.filing_date AS TEXT), 1, 4) AS INTEGER) + 1 AS TEXT)
      || SUBSTR(CAST(o.filing_date AS TEXT), 5)
ORDER BY v.offering_key, v.version;

-- 10. Sales-compensation recipients ranked by the amount sold of the offerings they served
--     (recipients named in each offering's latest version).
SELECT r.recipient_name, r.crd_number, COUNT(*) AS offerings,
       SUM(o.total_amount_sold) AS amount_sold_served
FROM offerings_latest o
JOIN sales_compensation_recipients r ON r.filing_id = o.filing_id
GROUP BY r.recipient_name, r.crd_number
ORDER BY amount_sold_served DESC, r.recipient_name;
