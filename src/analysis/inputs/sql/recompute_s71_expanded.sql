-- S71 cells recomputed from the receipts (由借据重算S71) — the former, expanding query, kept as the
-- reference of tests/inputs/test_loans.py (test_recomputation_reduced_equals_expanded) while the
-- reduced query of recompute_s71.sql replaces it: every receipt is expanded into each (form row,
-- band) it counts in (~8 rows) before grouping. Amounts in 元, counts in 户.
-- One row per bank, data date, form row, band: columns A–F of the form.

WITH tagged AS (
    SELECT bank_id, data_date, customer_id, balance, amount, rate, is_npl, is_ytd, base_row, band, is_bill,
           guarantee_type = $credit_type AS is_credit, is_midlong, disbursement_type = $renewal_type AS is_renewal
    FROM scoped
    WHERE base_row IS NOT NULL AND band IS NOT NULL
),
-- Rule: each receipt counts in its base row, in row 3 when 3.1/3.2, in row 6 (all inclusive
-- small-micro), and in 6.1 credit, 6.2 medium/long term, 6.3 renewals without repayment.
row_targets(target) AS (VALUES ('base'), ('3'), ('6'), ('6.1'), ('6.2'), ('6.3')),
-- Rule: band 0 = bands 1–3 (≤1000万, bills included); band 5 = band 0 without bills
-- (-1 stands for the receipt's own band).
band_targets(target) AS (VALUES (-1), (0), (5)),
cells AS (
    -- one row per receipt and (form row, band) it counts in: a join with the two small target
    -- tables (a list per receipt, flattened and unnested, was five times slower)
    SELECT t.bank_id, t.data_date, t.customer_id, t.balance, t.amount, t.rate, t.is_npl, t.is_ytd,
           CASE WHEN r.target = 'base' THEN t.base_row ELSE r.target END AS row_code,
           CASE WHEN b.target = -1 THEN t.band ELSE b.target END AS band
    FROM tagged t
    JOIN row_targets r
      ON r.target IN ('base', '6')
      OR (r.target = '3' AND t.base_row IN ('3.1', '3.2'))
      OR (r.target = '6.1' AND t.is_credit)
      OR (r.target = '6.2' AND t.is_midlong)
      OR (r.target = '6.3' AND t.is_renewal)
    JOIN band_targets b
      ON b.target = -1
      OR (b.target = 0 AND t.band <= 3)
      OR (b.target = 5 AND t.band <= 3 AND NOT t.is_bill)
),
per_customer AS (
    -- Rule: borrowers are distinct customers, so amounts are first summed per customer.
    SELECT bank_id, data_date, row_code, band, customer_id,
        sum(balance) FILTER (WHERE balance > 0)                AS a,
        sum(balance) FILTER (WHERE balance > 0 AND is_npl)     AS c,
        sum(amount) FILTER (WHERE is_ytd)                      AS d,
        sum(amount * rate / 100) FILTER (WHERE is_ytd)         AS f,
        bool_or(balance > 0)                                   AS has_balance,
        bool_or(is_ytd)                                        AS has_ytd
    FROM cells
    GROUP BY ALL
)
SELECT bank_id, data_date, row_code, band,
    -- A 贷款余额: outstanding balance
    sum(a)                                   AS "A",
    -- B 贷款余额户数: customers with a balance
    count(*) FILTER (WHERE has_balance)      AS "B",
    -- C 不良贷款余额: balance classified 次级/可疑/损失
    coalesce(sum(c), 0)                      AS "C",
    -- D 当年累放贷款额: drawdowns since 1 January, restructured excluded
    coalesce(sum(d), 0)                      AS "D",
    -- E 当年累放贷款户数: customers drawn down since 1 January
    count(*) FILTER (WHERE has_ytd)          AS "E",
    -- F 当年累放贷款年化利息收益: drawdown × actual annual rate
    coalesce(sum(f), 0)                      AS "F"
FROM per_customer
GROUP BY ALL
ORDER BY ALL;
