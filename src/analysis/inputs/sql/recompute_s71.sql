-- S71 cells recomputed from the receipts (由借据重算S71), amounts in 元, counts in 户.
-- One row per bank, data date, form row, band: columns A–F of the form.
-- The large table is reduced first and the (form row, band) cells are assigned on the reduced
-- rows: amounts are sums over receipts (grouped by the receipt's own flags, a few hundred rows per
-- bank), customer counts are one aggregation per customer (the set of cells it counts in, a bit
-- mask), then grouped by mask. No receipt is expanded into its ~8 cells.

WITH
-- Rule: each receipt counts in its base row, in row 3 when 3.1/3.2, in row 6 (all inclusive
-- small-micro) — row kind 0 — and in 6.1 credit (kind 1), 6.2 medium/long term (kind 2), 6.3
-- renewals without repayment (kind 3).
row_targets(row_target, kind) AS (VALUES ('base', 0), ('3', 0), ('6', 0), ('6.1', 1), ('6.2', 2), ('6.3', 3)),
-- Rule: a receipt counts in its own band 1–4 (slots 0–3), in band 0 = bands 1–3 (≤1000万, bills
-- included; slot 4) and in band 5 = band 0 without bills (slot 5).
band_targets(band, slot) AS (VALUES (1, 0), (2, 1), (3, 2), (4, 3), (0, 4), (5, 5)),
-- cell (row kind k, band slot j) is bit 6·k + j of a mask
cell_bits AS (
    SELECT r.row_target, r.kind, b.band, CAST(1 AS INTEGER) << (6 * r.kind + b.slot) AS bit
    FROM row_targets r CROSS JOIN band_targets b
),
tagged AS (
    SELECT bank_id, data_date, customer_id, base_row, balance, amount, rate, is_npl, is_ytd,
           -- the receipt's cells: its band slots, repeated for each row kind it counts in
           ((CAST(1 AS INTEGER) << (band - 1))
              | CASE WHEN band <= 3 THEN 16 ELSE 0 END
              | CASE WHEN band <= 3 AND NOT is_bill THEN 32 ELSE 0 END)
           * (1 + CASE WHEN guarantee_type = $credit_type THEN 64 ELSE 0 END
                + CASE WHEN is_midlong THEN 4096 ELSE 0 END
                + CASE WHEN disbursement_type = $renewal_type THEN 262144 ELSE 0 END) AS cells
    FROM scoped
    WHERE base_row IS NOT NULL AND band IS NOT NULL
),
amounts_by_flags AS (
    -- amounts add up over receipts: summed per bank, date, base row and cell set first
    SELECT bank_id, data_date, base_row, cells,
        sum(balance) FILTER (WHERE balance > 0)                AS a,
        sum(balance) FILTER (WHERE balance > 0 AND is_npl)     AS c,
        sum(amount) FILTER (WHERE is_ytd)                      AS d,
        sum(amount * rate / 100) FILTER (WHERE is_ytd)         AS f
    FROM tagged
    GROUP BY ALL
),
-- Rule: borrowers are distinct customers: a customer counts once in every cell where one of its
-- receipts has a balance (B) or was drawn down this year (E).
per_customer AS (
    SELECT bank_id, data_date, base_row, customer_id,
        bit_or(cells) FILTER (WHERE balance > 0)               AS balance_cells,
        bit_or(cells) FILTER (WHERE is_ytd)                    AS ytd_cells
    FROM tagged
    GROUP BY ALL
),
customers_by_cells AS (
    SELECT bank_id, data_date, base_row, balance_cells, ytd_cells, count(*) AS customers
    FROM per_customer
    GROUP BY ALL
),
-- the form rows of each row kind for a base row (row 3 only for 3.1/3.2)
rows_of AS (
    SELECT DISTINCT t.base_row, c.row_target, c.kind, c.band, c.bit,
           CASE WHEN c.row_target = 'base' THEN t.base_row ELSE c.row_target END AS row_code
    FROM (SELECT DISTINCT base_row FROM tagged) t
    JOIN cell_bits c ON c.row_target <> '3' OR t.base_row IN ('3.1', '3.2')
),
amount_cells AS (
    SELECT a.bank_id, a.data_date, r.row_code, r.band,
        -- A 贷款余额: outstanding balance
        sum(a.a)                  AS "A",
        -- C 不良贷款余额: balance classified 次级/可疑/损失
        coalesce(sum(a.c), 0)     AS "C",
        -- D 当年累放贷款额: drawdowns since 1 January, restructured excluded
        coalesce(sum(a.d), 0)     AS "D",
        -- F 当年累放贷款年化利息收益: drawdown × actual annual rate
        coalesce(sum(a.f), 0)     AS "F"
    FROM amounts_by_flags a
    JOIN rows_of r ON r.base_row = a.base_row AND (a.cells & r.bit) <> 0
    GROUP BY ALL
),
count_cells AS (
    SELECT k.bank_id, k.data_date, r.row_code, r.band,
        -- B 贷款余额户数: customers with a balance
        CAST(coalesce(sum(k.customers) FILTER (WHERE (k.balance_cells & r.bit) <> 0), 0) AS BIGINT) AS "B",
        -- E 当年累放贷款户数: customers drawn down since 1 January
        CAST(coalesce(sum(k.customers) FILTER (WHERE (k.ytd_cells & r.bit) <> 0), 0) AS BIGINT)     AS "E"
    FROM customers_by_cells k
    JOIN rows_of r ON r.base_row = k.base_row
    GROUP BY ALL
)
-- a cell exists where a receipt counts in it (its amounts); its counts may be 0
SELECT a.bank_id, a.data_date, a.row_code, a.band,
       a."A", coalesce(k."B", 0) AS "B", a."C", a."D", coalesce(k."E", 0) AS "E", a."F"
FROM amount_cells a
LEFT JOIN count_cells k USING (bank_id, data_date, row_code, band)
ORDER BY ALL;
