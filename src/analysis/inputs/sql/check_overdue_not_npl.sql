-- Rule overdue_not_npl (逾期90天以上未纳入不良, clause 十六 做实风险分类): a receipt with a balance,
-- overdue more than $min_overdue_days days, still classified 正常 or 关注.
SELECT bank_id, data_date, receipt_id, customer_id, balance, five_class, overdue_days
FROM scoped
WHERE balance > 0
  AND overdue_days > $min_overdue_days
  AND NOT is_npl
ORDER BY bank_id, data_date, overdue_days DESC, receipt_id;
