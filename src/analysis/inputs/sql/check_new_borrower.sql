-- Rule new_borrower (成立或股权受让不久即获经营贷款, clause 十六): a business loan drawn down this
-- year within $max_months months of the borrower's founding date or of the latest transfer of its
-- equity (受让股权), bills excluded. (The customer's dates are in `scoped`, from its customer row.)
SELECT s.bank_id, s.data_date, s.receipt_id, s.customer_id, s.amount, s.disbursement_date,
       s.founding_date, s.equity_transfer_date,
       CASE WHEN s.disbursement_date < s.founding_date + to_months($max_months) THEN '成立不久'
            ELSE '股权受让不久' END AS reason
FROM scoped s
WHERE s.is_ytd AND NOT s.is_bill AND s.base_row IS NOT NULL
  AND (s.disbursement_date < s.founding_date + to_months($max_months)
       OR (s.equity_transfer_date IS NOT NULL
           AND s.disbursement_date >= s.equity_transfer_date
           AND s.disbursement_date < s.equity_transfer_date + to_months($max_months)))
ORDER BY s.bank_id, s.data_date, s.receipt_id;
