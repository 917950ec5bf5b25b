-- Rule renewal_share (无还本续贷占比, clause 五): renewals without repayment of principal drawn
-- this year ÷ all inclusive (band 5) drawdowns this year, per bank; the renewals now classified
-- non-performing show whether renewal hides credit risk (不得用续贷掩盖信用风险).
SELECT bank_id, data_date,
    coalesce(sum(amount) FILTER (WHERE disbursement_type = $renewal_type), 0)       AS renewal_amount,
    coalesce(sum(amount), 0)                                                        AS ytd_amount,
    100.0 * coalesce(sum(amount) FILTER (WHERE disbursement_type = $renewal_type), 0)
          / nullif(sum(amount), 0)                                                  AS renewal_share_pct,
    coalesce(sum(balance) FILTER (WHERE disbursement_type = $renewal_type AND is_npl), 0) AS renewed_npl_balance
FROM scoped
WHERE is_ytd AND base_row IS NOT NULL AND band <= 3 AND NOT is_bill
GROUP BY ALL
ORDER BY ALL;
