-- Checks made on every EAST file before any view reads it (analysis.inputs.east: the conditions are
-- OR-ed into one filter over the files of each view — `first_pass` —, and counted and located only
-- when it finds a row): each fragment is a condition true for a row that must be refused, or an
-- expression that parses a value already checked (strict: a value a condition let through by mistake
-- stops the run, it never reads as NULL). {x} is the column (as the file names it), {open} the open
-- dates of the params.

-- name: first_pass
-- The one filtering pass over every file of a view ({rows}: each group of files' rows as `refused`,
-- true when a condition below fires, and `row_key`, the hash of `key`): how many rows are refused,
-- and how many repeat a key — the rows less the distinct key hashes. Two keys of one hash could only
-- make the second count positive, never hide a repeated key, and the keys are then compared as
-- written (`duplicates`): no row is refused for a hash. The rows are read again, and located, only
-- when a count is not 0. (Grouped by the hash, not count(DISTINCT row_key) beside the FILTER: DuckDB
-- 2.0 then computed the conditions at 2.5 times the cost — receipts of the demo 1.05 s CPU alone,
-- 2.71 s with count(DISTINCT), 1.12 s grouped.)
SELECT coalesce(sum(refused_rows), 0) AS refused, coalesce(sum(key_rows) - count(*), 0) AS repeated
FROM (
    SELECT row_key, count(*) FILTER (WHERE refused) AS refused_rows, count(*) AS key_rows
    FROM ({rows})
    GROUP BY row_key
)

-- name: date
-- A YYYYMMDD text date; empty and the open dates (99991231) are NULL.
CASE WHEN {x} IS NULL OR trim(CAST({x} AS VARCHAR)) IN ('', {open}) THEN NULL
     ELSE strptime(trim(CAST({x} AS VARCHAR)), '%Y%m%d')::DATE END

-- name: bad_date
-- Refusal east_bad_date: text that is not exactly eight digits forming a calendar date (20230230,
-- 2023123, 2023-12-31 are refused; try_strptime alone would read 2023123 as 3 December). The
-- format has no separator, so a trimmed text of length 8 that parses is eight digits (a regular
-- expression says the same at seven times the cost on 10⁷ rows).
NOT ({x} IS NULL OR trim(CAST({x} AS VARCHAR)) IN ('', {open})
     OR (length(trim(CAST({x} AS VARCHAR))) = 8
         AND try_strptime(trim(CAST({x} AS VARCHAR)), '%Y%m%d') IS NOT NULL))

-- name: missing_date
-- Refusal east_missing_date: a date the rules cannot do without (采集日期, 贷款发放日期, 授信开始日期)
-- is empty or open.
({x} IS NULL OR trim(CAST({x} AS VARCHAR)) IN ('', {open}))

-- name: month
-- A YYYYMM year-month, written YYYY-MM; empty and 999912 are NULL.
CASE WHEN {x} IS NULL OR trim(CAST({x} AS VARCHAR)) IN ('', {open_month}) THEN NULL
     ELSE strftime(strptime(trim(CAST({x} AS VARCHAR)) || '01', '%Y%m%d'), '%Y-%m') END

-- name: bad_month
-- Refusal east_bad_date: a year-month that is not six digits forming a month.
NOT ({x} IS NULL OR trim(CAST({x} AS VARCHAR)) IN ('', {open_month})
     OR (length(trim(CAST({x} AS VARCHAR))) = 6
         AND try_strptime(trim(CAST({x} AS VARCHAR)) || '01', '%Y%m%d') IS NOT NULL))

-- name: number
-- A DECIMAL amount or rate (元, %); empty is NULL.
CAST(nullif(trim(CAST({x} AS VARCHAR)), '') AS DOUBLE)

-- name: bad_number
-- Refusal east_bad_number: text that is not a number.
(nullif(trim(CAST({x} AS VARCHAR)), '') IS NOT NULL AND TRY_CAST(trim(CAST({x} AS VARCHAR)) AS DOUBLE) IS NULL)

-- name: not_finite
-- Refusal east_not_finite: a number DuckDB reads but no amount or rate can be — infinite or not a
-- number (inf, -Infinity, NaN, 1e999): one such value makes every sum it enters inf or NaN.
coalesce(NOT isfinite(TRY_CAST(trim(CAST({x} AS VARCHAR)) AS DOUBLE)), false)

-- name: key
-- Refusal east_duplicate_key: a row's key — 金融许可证号, 采集日期 (as written) and the view's own key
-- {x} (信贷借据号, 信贷合同号, 授信协议号, 客户统一编号: the EAST primary keys), trimmed as the views
-- trim them — hashed for `first_pass`. A key twice in one bank's snapshot is one loan (contract,
-- line, customer) counted twice, in one file or across the files of the view.
hash(trim(CAST({c:JRXKZH} AS VARCHAR)), {key_date:CJRQ}, trim(CAST({x} AS VARCHAR)))

-- name: key_rows
-- Refusal east_duplicate_key, located: one file's rows in file order with their line and key.
SELECT {file_no} AS file_no, _row, trim(CAST({c:JRXKZH} AS VARCHAR)) AS licence,
       {key_date:CJRQ} AS data_date, trim(CAST({x} AS VARCHAR)) AS row_key
FROM (SELECT *, row_number() OVER () + 1 AS _row FROM {src})

-- name: duplicates
-- Refusal east_duplicate_key: each key found more than once in one bank's snapshot ({rows}: the
-- `key_rows` of every file of the view), with the places (file, line) it is found at, the first five
-- in file order.
SELECT licence, data_date, row_key, count(*) AS n,
       list({'file_no': file_no, 'row': _row} ORDER BY file_no, _row)[1:5] AS places
FROM ({rows})
GROUP BY licence, data_date, row_key
HAVING count(*) > 1
ORDER BY min(file_no), min(_row)
LIMIT {listed}

-- name: identifier
-- A 证件号码 as the office matches it across banks: full-width forms (０–９, Ａ–Ｚ, ｘ …, U+FF01–U+FF5E)
-- and the ideographic space (U+3000) read as the ASCII they stand for — what Unicode NFKC makes of
-- them ({fullwidth} -> {halfwidth}) —, spaces trimmed, the check character (the last) upper case
-- (…x -> …X). Empty is NULL. Nothing else changes: a bank's transformed personal 证件号码 stays as
-- written. Nearly every value is `plain_identifier` and only trimmed: translate() costs some 7 µs a
-- value (7 s for 10⁶), the test a fraction of that.
CASE WHEN {plain_identifier} THEN nullif(trim(CAST({x} AS VARCHAR)), '')
     ELSE nullif(left(trim(translate(CAST({x} AS VARCHAR), {fullwidth}, {halfwidth})), -1)
                 || upper(right(trim(translate(CAST({x} AS VARCHAR), {fullwidth}, {halfwidth})), 1)), '')
END

-- name: identifier_written
-- The 证件号码 as written (trimmed) where `identifier` changed it, else NULL: the coverage table
-- lists these per bank, so that the bank can correct its files.
CASE WHEN {plain_identifier} THEN NULL
     WHEN nullif(trim(CAST({x} AS VARCHAR)), '') IS DISTINCT FROM ({identifier})
     THEN trim(CAST({x} AS VARCHAR)) END

-- name: plain_identifier
-- A 证件号码 that `identifier` only trims: ASCII alone (as many bytes as characters) and no lower-case
-- letter last.
(strlen(CAST({x} AS VARCHAR)) = length(CAST({x} AS VARCHAR))
 AND NOT regexp_matches(CAST({x} AS VARCHAR), '[a-z]\s*$'))

-- name: unknown_licence
-- Refusal east_unknown_licence: a 金融许可证号 the 报送机构编码对照 table does not list.
(trim({x}) NOT IN (SELECT licence FROM east_org_map) OR {x} IS NULL)

-- name: unknown_currency
-- Refusal east_unknown_currency: a 币种 other than CNY with no rate for the row's data date.
(upper(trim({x})) IS DISTINCT FROM 'CNY'
 AND NOT EXISTS (SELECT 1 FROM east_fx f WHERE f.currency = upper(trim({x})) AND f.data_date = {data_date}))

-- The simplified tables (analysis.loans, hand-made): dates as YYYY-MM-DD or YYYYMMDD text.

-- name: simple_date
-- A YYYY-MM-DD or YYYYMMDD date; empty and 99991231 are NULL (open).
CASE WHEN {x} IS NULL OR trim(CAST({x} AS VARCHAR)) IN ('', '99991231') THEN NULL
     WHEN regexp_full_match(trim(CAST({x} AS VARCHAR)), '[0-9]{8}')
          THEN strptime(trim(CAST({x} AS VARCHAR)), '%Y%m%d')::DATE
     ELSE CAST(trim(CAST({x} AS VARCHAR)) AS DATE) END

-- name: simple_bad_date
-- Refusal east_bad_date: neither form (nor empty, nor open).
NOT ({x} IS NULL OR trim(CAST({x} AS VARCHAR)) IN ('', '99991231')
     OR (regexp_full_match(trim(CAST({x} AS VARCHAR)), '[0-9]{8}')
         AND try_strptime(trim(CAST({x} AS VARCHAR)), '%Y%m%d') IS NOT NULL)
     OR (regexp_full_match(trim(CAST({x} AS VARCHAR)), '[0-9]{4}-[0-9]{2}-[0-9]{2}( 00:00:00)?')
         AND TRY_CAST(trim(CAST({x} AS VARCHAR)) AS DATE) IS NOT NULL))
