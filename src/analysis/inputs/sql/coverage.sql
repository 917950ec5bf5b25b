-- Coverage of every rule (核查覆盖面): per bank and data date, how many receipts / lines a rule could
-- judge (`judged`), how many it could not (`not_judged`) and why. Requires `scoped_all` and `scoped`
-- (sql/scope.sql).
-- A rule that judged everything still has its row (not_judged = 0): an analyst sees what was checked.

-- Rule: a receipt whose 客户统一编号 is in no customer table of its bank is left out of the
-- recomputation and of every check (`scoped` of scope.sql).
SELECT bank_id, data_date, 'recompute' AS rule,
       count(*) FILTER (WHERE has_customer)     AS judged,
       count(*) FILTER (WHERE NOT has_customer) AS not_judged,
       '借据的客户统一编号不在本行客户信息表中，未纳入重算和核查' AS reason
FROM scoped_all
GROUP BY ALL

UNION ALL
-- Rule: a small-micro receipt with no line in force on its disbursement date is put in band 1
-- (单户授信 0): counted, but its band is an assumption.
SELECT bank_id, data_date, 'band',
       count(*) FILTER (WHERE NOT no_line), count(*) FILTER (WHERE no_line),
       '发放日无有效授信，按单户授信0元计入100万元以下档'
FROM scoped WHERE base_row IS NOT NULL
GROUP BY ALL

UNION ALL
-- Rule: the guarantee (6.1 信用) is the contract's 担保类型; a receipt whose contract is not delivered
-- has none and is not counted as a credit loan.
SELECT bank_id, data_date, 'guarantee',
       count(*) FILTER (WHERE guarantee_type IS NOT NULL), count(*) FILTER (WHERE guarantee_type IS NULL),
       '信贷合同不在信贷合同表中，担保类型未知（不计入6.1信用贷款）'
FROM scoped WHERE base_row IS NOT NULL
GROUP BY ALL

UNION ALL
-- Rule: overdue_not_npl judges receipts with a balance and known overdue days (EAST: from 欠本日期 /
-- 欠息日期, always known).
SELECT bank_id, data_date, 'overdue_not_npl',
       count(*) FILTER (WHERE overdue_days IS NOT NULL), count(*) FILTER (WHERE overdue_days IS NULL),
       '无逾期天数，无法判断'
FROM scoped WHERE balance > 0
GROUP BY ALL

UNION ALL
-- Rule: new_borrower judges this year's business drawdowns whose borrower has a 成立日期; the
-- personal table (个人基础信息表) has none, so individual businesses and owners borrowing in their
-- own name cannot be judged.
SELECT bank_id, data_date, 'new_borrower',
       count(*) FILTER (WHERE founding_date IS NOT NULL), count(*) FILTER (WHERE founding_date IS NULL),
       '借款人无成立日期（个人基础信息表不含成立日期：以个人名义借款的个体工商户、小微企业主）'
FROM scoped WHERE is_ytd AND NOT is_bill AND base_row IS NOT NULL
GROUP BY ALL

UNION ALL
-- Rule: over_crediting matches lines across banks by 证件号码; a line in force without one cannot be
-- matched.
SELECT l.bank_id, d.data_date, 'over_crediting',
       count(*) FILTER (WHERE l.party_id IS NOT NULL), count(*) FILTER (WHERE l.party_id IS NULL),
       '授信无客户证件号码（授信表与客户表均无），无法跨行识别'
FROM credit_lines l
JOIN city_receipt_dates d
  ON l.line_start <= d.data_date AND d.data_date <= coalesce(l.line_end, DATE '9999-12-31')
GROUP BY ALL

UNION ALL
-- Rule: a 证件号码 written in full-width characters or with a lower-case check character (９１４１…,
-- …x) is matched across banks as the office writes it (sql/east_refusals.sql `identifier`): the lines
-- in force so matched are counted per bank (all judged), and their 证件号码 listed as written -> as
-- matched (the first ten), so that the bank can correct its files. The row is there only where one was.
SELECT l.bank_id, d.data_date, 'id_normalised',
       count(*), 0,
       '证件号码写法不规范（全角字符或小写校验位），已按半角、校验位大写规范后跨行匹配，共'
         || count(DISTINCT l.party_id_written) || '个：'
         || array_to_string(list_slice(list_sort(list_distinct(list(l.party_id_written || '→' || l.party_id))), 1, 10), '、')
FROM credit_lines l
JOIN city_receipt_dates d
  ON l.line_start <= d.data_date AND d.data_date <= coalesce(l.line_end, DATE '9999-12-31')
WHERE l.party_id_written IS NOT NULL
GROUP BY ALL

UNION ALL
-- Rule: the bank's own 普惠 flag (是否普惠型小微企业贷款) against the recomputed scope (a small-micro
-- borrower, single line ≤ 1000万, no bill): `not_judged` counts the receipts where they disagree
-- (a hint for the analyst; the recomputation does not use the flag).
SELECT bank_id, data_date, 'inclusive_flag',
       count(*) FILTER (WHERE inclusive_flag = (base_row IS NOT NULL AND band <= 3 AND NOT is_bill)),
       count(*) FILTER (WHERE inclusive_flag <> (base_row IS NOT NULL AND band <= 3 AND NOT is_bill)),
       '银行“是否普惠型小微企业贷款”标记与重算口径不一致（提示）'
FROM scoped WHERE inclusive_flag IS NOT NULL AND (balance > 0 OR is_ytd)
GROUP BY ALL

ORDER BY 1, 2, 3;
