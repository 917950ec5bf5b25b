-- EAST 5.0 tables (as banks deliver them) -> the internal views every rule reads (receipts,
-- customers, credit_lines). Filled in by analysis.east for each group of files with the same
-- headers: {src} is the file reader, {c:CODE} the column as the file names it (code such as KHTYBH,
-- or its Chinese name 客户统一编号, per params/east/east-<version>.yaml; NULL when an optional column
-- is absent), {date:CODE} / {month:CODE} / {number:CODE} its parsed value, {value:NAME} the value
-- mapping NAME of the params, {id:CODE} a 证件号码 as matched across banks and {id_written:CODE} the
-- same as written where that differs (sql/east_refusals.sql `identifier`). Every value has been checked first (sql/east_refusals.sql): no parse
-- here can fail or turn a bad value into NULL.
-- Rule (every table): the bank is the institution its 金融许可证号 (JRXKZH) maps to in the
-- 报送机构编码对照 table (east_org_map); 银行机构代码 and 内部机构号 are not bank ids.

-- name: corporate_customers
-- 对公客户信息表 IE_002_203 -> customers
SELECT
    o.institution_id                                  AS bank_id,
    trim({c:KHTYBH})                                  AS customer_id,
    -- Rule: across banks a firm is its 证件号码 (统一社会信用代码), never the bank's 客户统一编号;
    -- written in full-width characters or with a lower-case check character, it is read as the office
    -- writes it (sql/east_refusals.sql `identifier`), and the coverage table lists it as written.
    {id:ZJHM}                                         AS party_id,
    {id_written:ZJHM}                                 AS party_id_written,
    -- Rule: 同业客户 are no enterprise; otherwise the type follows 企业分类 (小型企业 -> 企业,
    -- 其他-个体工商户 -> 个体工商户, 政府机关 -> 其他组织 …), the size likewise (小型企业 -> 小型).
    CASE WHEN {value:corporate_kind} = '同业' THEN '同业' ELSE {value:corporate_type} END AS customer_type,
    {value:enterprise_size}                           AS enterprise_size,
    {c:XZQHDM}                                        AS region,
    {c:SSHY}                                          AS industry,
    {date:CLRQ}                                       AS founding_date,
    {month:SCJLXDGXNY}                                AS first_credit_month,
    -- Rule: EAST 5.0 has no 股权受让日期: the equity-transfer leg of new_borrower cannot fire.
    CAST(NULL AS DATE)                                AS equity_transfer_date,
    {date:CJRQ}                                       AS data_date
FROM {src} t
JOIN east_org_map o ON o.licence = trim(t.{c:JRXKZH});

-- name: personal_customers
-- 个人基础信息表 IE_002_201 -> customers (individual businesses and owners are typed by 客户类型)
SELECT
    o.institution_id                                  AS bank_id,
    trim({c:KHTYBH})                                  AS customer_id,
    -- Rule: a person across banks is the bank-transformed 证件号码 (EAST keeps the transform consistent;
    -- full-width forms and a lower-case check character read as for firms).
    {id:ZJHM}                                         AS party_id,
    {id_written:ZJHM}                                 AS party_id_written,
    -- Rule: 客户类型 (个体工商户 / 小微企业主 / 普通个人客户 …; several joined by ';': the first of
    -- the params' priority wins).
    {value:personal_type}                             AS customer_type,
    CAST(NULL AS VARCHAR)                             AS enterprise_size,
    CAST(NULL AS VARCHAR)                             AS region,
    CAST(NULL AS VARCHAR)                             AS industry,
    -- Rule: the personal table has no 成立日期 (coverage says which loans new_borrower cannot judge).
    CAST(NULL AS DATE)                                AS founding_date,
    {month:SCJLXDGXNY}                                AS first_credit_month,
    CAST(NULL AS DATE)                                AS equity_transfer_date,
    {date:CJRQ}                                       AS data_date
FROM {src} t
JOIN east_org_map o ON o.licence = trim(t.{c:JRXKZH});

-- name: contracts
-- 信贷合同表 IE_005_501 -> east_contracts (the guarantee of every receipt under the contract)
SELECT
    o.institution_id                                  AS bank_id,
    trim({c:XDHTH})                                   AS contract_id,
    {value:guarantee_type}                            AS guarantee_type,
    {date:CJRQ}                                       AS data_date
FROM {src} t
JOIN east_org_map o ON o.licence = trim(t.{c:JRXKZH});

-- name: receipts
-- 对公 / 个人信贷业务借据表 IE_005_504 / IE_005_503 -> receipts
WITH t AS (
    SELECT *,
        {date:CJRQ}  AS _data_date,
        {date:QBRQ}  AS _principal_due,
        {date:QXRQ}  AS _interest_due,
        -- Rule: amounts are 元 of the receipt's currency (币种); CNY as it is, any other at the rate
        -- of the data date in params/east/fx-rates.yaml (a currency without a rate was refused).
        upper(trim({c:BZ})) AS _currency
    FROM {src}
)
SELECT
    t._data_date                                      AS data_date,
    o.institution_id                                  AS bank_id,
    trim({c:XDJJH})                                   AS receipt_id,
    trim({c:KHTYBH})                                  AS customer_id,
    trim({c:XDHTH})                                   AS contract_id,
    -- Rule: the subject is the 明细科目编号 (bills are recognised by its prefix, params/loans.yaml).
    trim({c:MXKMBH})                                  AS subject,
    {number:DKJE} * CASE WHEN t._currency = 'CNY' THEN 1 ELSE fx.rate END AS amount,
    {number:DKYE} * CASE WHEN t._currency = 'CNY' THEN 1 ELSE fx.rate END AS balance,
    {value:five_class}                                AS five_class,
    {date:DKFFRQ}                                     AS disbursement_date,
    {date:DKDQRQ}                                     AS maturity_date,
    {number:SJLL}                                     AS rate,
    {c:DKTXDQ}                                        AS purpose_area,
    {c:DKTXHY}                                        AS purpose_industry,
    -- Rule: 贷款发放类型 mapped (重组贷款 -> 重组, excluded from drawdowns by params/loans.yaml).
    {value:disbursement_type}                         AS disbursement_type,
    -- Rule: EAST has no 逾期天数: overdue days = 采集日期 − the earlier of 欠本日期 / 欠息日期
    -- (99991231, open, means nothing is owed; a date after the data date is not overdue).
    coalesce(greatest(date_diff('day', least(t._principal_due, t._interest_due), t._data_date), 0), 0)
                                                      AS overdue_days,
    -- Rule: the bank's own 普惠 flag (是否普惠型小微企业贷款), compared with the recomputed scope.
    CAST({value:inclusive_flag} AS BOOLEAN)           AS inclusive_flag
FROM t
JOIN east_org_map o ON o.licence = trim(t.{c:JRXKZH})
LEFT JOIN east_fx fx ON fx.currency = t._currency AND fx.data_date = t._data_date;

-- name: receipts_guarantee
-- The receipts of every group of files ({receipts}, the section above for each) with their guarantee,
-- joined once for all of them (the contracts are the largest table after the receipts).
-- Rule: EAST has no 担保方式 on a receipt: the guarantee is its contract's 担保类型
-- (借据.信贷合同号 -> 信贷合同表, same bank); NULL when the contract is not delivered.
SELECT r.*, k.guarantee_type
FROM ({receipts}) r
LEFT JOIN east_contracts k ON k.bank_id = r.bank_id AND k.contract_id = r.contract_id;

-- name: credit_lines
-- 授信信息表 IE_007_701 -> credit_lines
WITH t AS (
    SELECT *, {date:CJRQ} AS _data_date, upper(trim({c:BZ})) AS _currency FROM {src}
)
SELECT
    o.institution_id                                  AS bank_id,
    trim({c:KHTYBH})                                  AS customer_id,
    -- Rule: across banks the line's holder is its 客户证件号码, else the 证件号码 of the bank's
    -- customer with that 客户统一编号; never the 客户统一编号 itself (both read as `identifier` does).
    coalesce({id:KHZJHM}, c.party_id)                 AS party_id,
    CASE WHEN {id:KHZJHM} IS NOT NULL THEN {id_written:KHZJHM} ELSE c.party_id_written END AS party_id_written,
    {number:SXED} * CASE WHEN t._currency = 'CNY' THEN 1 ELSE fx.rate END AS line_amount,
    {date:SXKSRQ}                                     AS line_start,
    -- Rule: 99991231 is an open line (NULL); the rules treat NULL as never ending.
    {date:SXDQRQ}                                     AS line_end,
    trim({c:SXXYH})                                   AS line_id,
    t._data_date                                      AS data_date
FROM t
JOIN east_org_map o ON o.licence = trim(t.{c:JRXKZH})
LEFT JOIN east_fx fx ON fx.currency = t._currency AND fx.data_date = t._data_date
LEFT JOIN east_customers c ON c.bank_id = o.institution_id AND c.customer_id = trim(t.{c:KHTYBH})
-- Rule: only lines 有效 (授信状态) are in force; without the column every line is.
WHERE coalesce(CAST({value:line_status} AS BOOLEAN), true);

-- name: latest_customers
-- Rule: one row per bank and 客户统一编号: its latest snapshot (采集日期) in the folder.
SELECT * EXCLUDE (data_date) FROM east_customers_all
QUALIFY row_number() OVER (PARTITION BY bank_id, customer_id ORDER BY data_date DESC) = 1;

-- name: latest_contracts
-- Rule: one row per bank and 信贷合同号: its latest snapshot.
SELECT * EXCLUDE (data_date) FROM east_contracts_all
QUALIFY row_number() OVER (PARTITION BY bank_id, contract_id ORDER BY data_date DESC) = 1;

-- name: latest_credit_lines
-- Rule: one row per bank and 授信协议号: its latest snapshot (a line is counted once, not per month).
SELECT * EXCLUDE (data_date, line_id) FROM east_credit_lines_all
QUALIFY row_number() OVER (PARTITION BY bank_id, line_id ORDER BY data_date DESC) = 1;
