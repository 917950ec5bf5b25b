"""Names of the indicator engine's output columns, with Chinese labels and units.

A leaf module: the policy file validator, the engine, scoring, reports and exports all read these
lists, and none of them has to import the engine to do so.
"""

from __future__ import annotations

#: Indicator columns produced by :func:`compute_indicators`: name -> (Chinese label, unit).
INDICATOR_COLUMNS: dict[str, tuple[str, str]] = {
    "differentiated": ("差异化考核", ""),
    "inclusive_balance_assessed": ("普惠型小微企业贷款余额（考核口径）", "万元"),
    "inclusive_balance_base": ("普惠型小微企业贷款年初余额", "万元"),
    "inclusive_ytd_increase": ("普惠型小微企业贷款较年初增量", "万元"),
    "inclusive_ytd_growth_pct": ("普惠型小微企业贷款较年初增速", "%"),
    "total_loans_base": ("各项贷款年初余额", "万元"),
    "total_loans_ytd_growth_pct": ("各项贷款较年初增速", "%"),
    "growth_margin_pp": ("普惠增速与各项贷款增速之差", "个百分点"),
    "inclusive_borrowers_base": ("普惠型小微企业贷款年初户数", "户"),
    "borrowers_change": ("有贷款余额户数较年初变化", "户"),
    "inclusive_balance_yoy_pct": ("普惠型小微企业贷款同比增速", "%"),
    "planned_increase": ("年度信贷计划新增额", "万元"),
    "plan_completion_pct": ("信贷计划完成率", "%"),
    "time_progress_pct": ("时序进度", "%"),
    "ytd_new_loan_rate_pct": ("当年累放贷款加权平均利率", "%"),
    "prior_year_rate_pct": ("上年全年累放贷款加权平均利率", "%"),
    "rate_change_bp": ("利率较上年变化", "BP"),
    "month_new_loan_rate_pct": ("当月新发放贷款加权平均利率", "%"),
    "category_rate_median_pct": ("同类机构利率中位数", "%"),
    "category_rate_p25_pct": ("同类机构利率下四分位数", "%"),
    "category_rate_p75_pct": ("同类机构利率上四分位数", "%"),
    "rate_rank_in_category": ("利率在同类机构中由低到高排名", "名"),
    "rate_peer_count": ("同类机构家数", "家"),
    "rate_percentile_in_category": ("利率在同类机构中的百分位", "%"),
    "high_rate": ("利率明显高于同类机构", ""),
    "inclusive_npl_ratio_pct": ("普惠型小微企业贷款不良率", "%"),
    "total_npl_ratio_pct": ("各项贷款不良率", "%"),
    "npl_gap_pp": ("普惠不良率高于各项贷款不良率", "个百分点"),
    "credit_loan_share_pct": ("信用贷款占比", "%"),
    "credit_loan_share_change_pp": ("信用贷款占比较年初变化", "个百分点"),
    "first_loan_borrowers_yoy_change": ("首贷户数较上年同期变化", "户"),
    "first_loan_borrowers_yoy_pct": ("首贷户数同比增速", "%"),
    "renewal_share_pct": ("续贷占当年累放比重", "%"),
    "renewal_share_yoy_change_pp": ("续贷占累放比重较上年同期变化", "个百分点"),
    "mfg_midlong_ytd_growth_pct": ("制造业小微企业中长期贷款较年初增速", "%"),
    "indiv_business_balance_change": ("个体工商户贷款余额较年初变化", "万元"),
    "indiv_business_balance_growth_pct": ("个体工商户贷款较年初增速", "%"),
    "indiv_business_borrowers_change": ("个体工商户贷款户数较年初变化", "户"),
    "above10m_balance_change": ("单户授信1000万元以上小微企业贷款较年初变化", "万元"),
    "guaranteed_balance_change": ("政府性融资担保贷款较年初变化", "万元"),
    "scitech_balance_change": ("科技型及专精特新小微企业贷款较年初变化", "万元"),
    "inclusive_share_pct": ("普惠型小微企业贷款占各项贷款比重", "%"),
    "inclusive_share_change_pp": ("普惠型小微企业贷款占比较年初变化", "个百分点"),
    "premium_yoy_pct": ("小微企业保险保费收入同比增速", "%"),
    "policies_yoy_pct": ("小微企业保险保单件数同比增速", "%"),
    "sum_insured_yoy_pct": ("小微企业保险保额同比增速", "%"),
    "claims_paid_yoy_pct": ("小微企业保险赔款同比增速", "%"),
    "claims_to_premium_pct": ("小微企业保险简单赔付率", "%"),
}

#: The verdict statuses produced for every row.
STATUS_COLUMNS: dict[str, str] = {
    "status_growth_leg": "两增：贷款增速",
    "status_borrowers_leg": "两增：贷款户数",
    "status_two_increases": "两增",
    "status_plan": "信贷计划完成",
    "status_rate_change": "利率较上年平稳",
    "status_high_rate": "高利率机构压降",
    "status_npl": "不良率在容忍度内",
}

IDENTITY_COLUMNS = [
    "institution_id",
    "name",
    "category",
    "entity_type",
    "county_code",
    "division",
    "sector",
    "period",
    "year",
    "month",
]

__all__ = ["INDICATOR_COLUMNS", "STATUS_COLUMNS", "IDENTITY_COLUMNS"]
