-- S71 cells recomputed from the receipts (由借据重算S71), amounts in 元, counts in 户.
-- One row per bank, data date, form row, band: columns A–F of the form.

WITH tagged AS (
    SELECT s.*,
        -- Rule: each receipt counts in its base row, in row 3 when 3.1/3.2, in row 6 (all inclusive
        -- small-micro), and in 6.1 credit, 6.2 medium/long term, 6.3 renewals without repayment.
        list_filter([
            base_row,
            CASE WHEN base_row IN ('3.1', '3.2') THEN '3' END,
            '6',
            CASE WHEN guarantee_type = $credit_type THEN '6.1' END,
            CASE WHEN is_midlong THEN '6.2' END,
            CASE WHEN disbursement_type = $renewal_type THEN '6.3' END
        ], lambda x: x IS NOT NULL) AS rows_,
        -- Rule: band 0 = bands 1–3 (≤1000万, bills included); band 5 = band 0 without bills.
        list_filter([
            band,
            CASE WHEN band <= 3 THEN 0 END,
            CASE WHEN band <= 3 AND NOT is_bill THEN 5 END
        ], lambda x: x IS NOT NULL) AS bands_
    FROM scoped s
    WHERE base_row IS NOT NULL AND band IS NOT NULL
),
cells AS (
    -- one row per receipt and (form row, band) it counts in
    SELECT bank_id, data_date, customer_id, balance, amount, rate, is_npl, is_ytd,
           unnest(flatten(list_transform(rows_, lambda r: list_transform(bands_, lambda b: {'row_code': r, 'band': b}))),
                  recursive := true)
    FROM tagged
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
