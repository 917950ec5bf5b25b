-- Checks made on every EAST file before any view reads it (analysis.inputs.east: the conditions are
-- OR-ed into one filter per group of files, and counted and located only when it finds a row): each
-- fragment is a condition true for a row that must be refused, or an expression that parses a value
-- already checked (strict: a value a condition let through by mistake stops the run, it never reads
-- as NULL). {x} is the column (as the file names it), {open} the open dates of the params.

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
