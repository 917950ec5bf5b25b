-- Receipts in scope of S71 (S71口径借据), one row per receipt and data date, with the facts
-- every rule needs. Views `receipts`, `customers`, `credit_lines` are set up by analysis.loans.

CREATE OR REPLACE TEMP TABLE scoped AS
WITH
-- Rule: the credit band is decided by the customer's total line at this bank in force on the
-- disbursement date (单户授信总额, at disbursement), not by today's line.
line_at_disbursement AS (
    SELECT r.bank_id, r.data_date, r.receipt_id, sum(l.line_amount) AS line_amount
    FROM receipts r
    JOIN credit_lines l
      ON l.bank_id = r.bank_id AND l.customer_id = r.customer_id
     AND l.line_start <= r.disbursement_date
     -- Rule: a line without an end date (EAST 99991231) never ends.
     AND r.disbursement_date <= coalesce(l.line_end, DATE '9999-12-31')
    GROUP BY ALL
)
SELECT
    r.bank_id, r.data_date, r.receipt_id, r.customer_id, r.amount, r.balance, r.rate,
    r.five_class, r.overdue_days, r.disbursement_type, r.guarantee_type, r.disbursement_date,
    r.inclusive_flag, c.customer_type, c.enterprise_size, c.founding_date, la.line_amount IS NULL AS no_line,
    coalesce(la.line_amount, 0) AS line_amount,
    -- Rule: band 1–4 by the line at disbursement; lines above the last band are not S71 loans.
    CASE
        WHEN coalesce(la.line_amount, 0) <= $band1_max THEN 1
        WHEN la.line_amount <= $band2_max THEN 2
        WHEN la.line_amount <= $band3_max THEN 3
        WHEN la.line_amount <= $band4_max THEN 4
    END AS band,
    -- Rule: bills (贴现及转贴现) are excluded from band 5 and are recognised by their subject.
    list_has_any([left(r.subject, 4)], $bill_prefixes) AS is_bill,
    -- Rule: year-to-date drawdowns are those since 1 January of the data date's year,
    -- restructured loans excluded (重组不计入累放).
    (r.disbursement_date >= date_trunc('year', r.data_date) AND r.disbursement_date <= r.data_date
        AND r.disbursement_type <> $restructured) AS is_ytd,
    -- Rule: rows of the form: 1 small/micro enterprises; 3.1 individual businesses; 3.2 owners.
    CASE
        WHEN c.customer_type = $enterprise_type AND list_has_any([c.enterprise_size], $small_micro) THEN '1'
        WHEN c.customer_type = $indiv_type THEN '3.1'
        WHEN c.customer_type = $owner_type THEN '3.2'
    END AS base_row,
    list_has_any([r.five_class], $npl_classes) AS is_npl,
    date_diff('day', r.disbursement_date, r.maturity_date) >= $midlong_min_days AS is_midlong
FROM receipts r
JOIN customers c ON c.bank_id = r.bank_id AND c.customer_id = r.customer_id
LEFT JOIN line_at_disbursement la
  ON la.bank_id = r.bank_id AND la.data_date = r.data_date AND la.receipt_id = r.receipt_id;
