"""User-facing text in Chinese (default) and English: the one i18n table of the project.

``TEXT`` holds titles and sentences; ``LABELS`` holds every value a page or a list shows,
by kind: column headers, lifecycle stages, loyalty types, needs, departments, channels,
lead sources, defeat reasons, order classes … Campaign names come from the catalogue
(``configs/campaigns.yaml``, ``name: {zh, en}``) through :func:`label` with kind ``campaign``.
Nothing on a manager's page is shown by its code name: an unknown code is turned into words
(underscores become spaces) rather than shown raw.
"""

from __future__ import annotations

from functools import lru_cache

TEXT: dict[str, dict[str, str]] = {
    "title": {"zh": "客户价值管理月报", "en": "Customer value management — monthly report"},
    # notes the campaigns step records (campaign_summary.notes)
    "note_prior_uplift": {
        "zh": "以下活动无对照组历史,使用目录先验效果:{campaigns}",
        "en": "No control-group history, catalogue prior effect used for: {campaigns}",
    },
    "note_value_skipped": {
        "zh": "价值模型未运行,按历史平均消费估算价值",
        "en": "Value model skipped: value at stake from each customer's historical average spend",
    },
    "subtitle": {
        "zh": "截至 {as_of} · 预测期 {h} 个月",
        "en": "As of {as_of} · horizon {h} months",
    },
    # sections (stable headings, tested)
    "summary": {"zh": "本月摘要", "en": "Summary"},
    "lifecycle": {"zh": "客户生命周期", "en": "Customer lifecycle"},
    "value": {"zh": "客户价值", "en": "Customer value"},
    "loyalty": {"zh": "忠诚度", "en": "Loyalty"},
    "needs": {"zh": "客户需求", "en": "Customer needs"},
    "plan": {"zh": "本月营销计划", "en": "This month's plan"},
    "results": {"zh": "上月活动效果", "en": "Last month's results"},
    "leads": {"zh": "销售线索", "en": "Sales leads"},
    "appendix": {"zh": "附录：模型质量", "en": "Appendix: model quality"},
    # sub-headings
    "five_groups": {"zh": "五类客群", "en": "The five customer groups"},
    "group_flow": {
        "zh": "客群月度流动(上月→本月)",
        "en": "Monthly flow between groups (last month → this month)",
    },
    "retention": {"zh": "保养里程碑留存率", "en": "Retention by service milestone"},
    "at_risk_list": {
        "zh": "高价值流失风险客户(前 {n} 名)",
        "en": "High-value customers at risk (top {n})",
    },
    "value_tags": {"zh": "客户价值标签", "en": "Value tags"},
    "ab_trend": {"zh": "A+B 客户占比趋势", "en": "A+B share, last 12 months"},
    "value_migration": {
        "zh": "价值标签迁移(上月→本月)",
        "en": "Value-tag migration, last month → this month",
    },
    "triad": {"zh": "既成 / 潜在 / 影响价值", "en": "Realized / potential / influence value"},
    "loyalty_matrix": {
        "zh": "忠诚度矩阵(态度 × 行为)",
        "en": "Loyalty matrix (attitude × behaviour)",
    },
    "loyalty_move": {
        "zh": "忠诚类型迁移(上月→本月)",
        "en": "Loyalty movement, last month → this month",
    },
    "needs_groups": {"zh": "需求分群与建议服务", "en": "Needs groups and the services to offer"},
    "plan_by_dept": {"zh": "各部门任务(共战)", "en": "Tasks by department"},
    "plan_by_campaign": {"zh": "各活动明细", "en": "By campaign"},
    "budget_curve": {
        "zh": "预算曲线：增减预算能带来什么",
        "en": "What more or less budget would buy",
    },
    "budget_curve_note": {
        "zh": "同一批候选客户、同样的部门产能和对照组，只改变预算。预算加倍时预期增量价值为 {v2}（本月 {v1}），每元回报从 {r1} 降到 {r2}。",
        "en": "The same candidates, department capacities and control groups, only the budget "
        "changes. Twice the budget would be expected to bring {v2} (this month {v1}); the "
        "return per CNY goes from {r1} to {r2}.",
    },
    "why_not_chosen": {"zh": "为什么有的客户没被选中", "en": "Why some customers were not chosen"},
    "why_not_chosen_note": {
        "zh": "每位符合条件的客户 × 活动组合及其未被选中的原因，见 campaigns/candidates.parquet。",
        "en": "Every eligible customer × campaign pair and why it was or was not chosen: "
        "campaigns/candidates.parquet.",
    },
    "funnel": {
        "zh": "销售漏斗(近12个月新增线索)",
        "en": "Sales funnel (leads of the last 12 months)",
    },
    "grades": {"zh": "在跟线索分级", "en": "Open leads by grade"},
    "defeat": {"zh": "战败原因(近12个月)", "en": "Why deals were lost (last 12 months)"},
    "sources": {"zh": "线索来源效果", "en": "Lead sources"},
    "orders": {
        "zh": "订单分类(在跟线索数,按预计交车月份)",
        "en": "Order classes (open leads by expected delivery month)",
    },
    "stock_plan": {
        "zh": "交车与备货计划(按意向车型,预计台数)",
        "en": "Delivery and stock plan (expected units by model)",
    },
    "model_grades": {"zh": "模型评级", "en": "Model grades"},
    "technical": {"zh": "技术指标", "en": "Technical tables"},
    "churn_drivers": {"zh": "流失风险的主要驱动因素", "en": "Main drivers of churn risk"},
    "value_drivers": {"zh": "客户价值的主要驱动因素", "en": "Main drivers of customer value"},
    "data_quality": {"zh": "数据质量与漂移", "en": "Data quality and drift"},
    "profile_completeness": {
        "zh": "客户档案完整度(17项)",
        "en": "Profile completeness (17 fields)",
    },
    "drift": {"zh": "特征漂移(PSI>{thr})", "en": "Feature drift (PSI > {thr})"},
    # boxes
    "means": {"zh": "含义", "en": "What it means"},
    "todo": {"zh": "建议", "en": "What to do"},
    "list_pointer": {
        "zh": "完整名单见 campaigns 文件夹中各部门的 Excel 文件({files})。",
        "en": "The full lists are the department files in the campaigns folder ({files}).",
    },
    "lead_list_pointer": {
        "zh": "完整线索名单见 leads 文件夹中的销售线索文件。",
        "en": "The full lead list is in the leads folder (sales leads CSV).",
    },
    # KPIs
    "kpis": {"zh": "核心指标", "en": "Headline KPIs"},
    "base": {"zh": "基盘客户", "en": "Customer base"},
    "active": {"zh": "活跃客户", "en": "Active"},
    "at_risk_n": {"zh": "流失风险", "en": "At risk"},
    "lost": {"zh": "已流失", "en": "Lost"},
    "return_rate": {"zh": "年回厂率", "en": "Yearly return rate"},
    "yearly_loss": {"zh": "年流失率", "en": "Yearly loss"},
    "ab_share": {"zh": "A+B 客户占比", "en": "A+B share"},
    "ab_target": {"zh": "目标", "en": "target"},
    "mom": {"zh": "较上月", "en": "vs last month"},
    # chart words
    "roc": {"zh": "ROC 曲线", "en": "ROC curve"},
    "calibration": {"zh": "校准", "en": "Calibration"},
    "gain": {"zh": "累积增益", "en": "Cumulative gain"},
    "predicted": {"zh": "预测概率", "en": "Predicted probability"},
    "observed": {"zh": "实际比例", "en": "Observed rate"},
    "fpr": {"zh": "误报率", "en": "False-positive rate"},
    "tpr": {"zh": "命中率", "en": "True-positive rate"},
    "share_customers": {"zh": "客户占比(按风险排序)", "en": "Share of customers (by risk)"},
    "share_customers_value": {
        "zh": "客户占比(按预测价值排序)",
        "en": "Share of customers (by predicted value)",
    },
    "share_churners": {"zh": "流失客户捕获占比", "en": "Share of churners captured"},
    "share_value": {"zh": "价值捕获占比", "en": "Share of value captured"},
    "model": {"zh": "模型", "en": "Model"},
    "random": {"zh": "随机", "en": "Random"},
    "customers": {"zh": "客户数", "en": "Customers"},
    "wan_yuan": {"zh": "万元", "en": "CNY thousand"},
    "expected_value": {"zh": "预期增量价值(元)", "en": "Expected incremental value (CNY)"},
    "skipped": {"zh": "未运行:{why}", "en": "Not run: {why}"},
    "section_failed": {
        "zh": "本节生成失败,详见 run.log。",
        "en": "This section could not be built; see run.log.",
    },
    "none": {"zh": "无", "en": "None"},
    "no_measurement": {
        "zh": "上月没有带对照组的活动,本月无可评估的效果。",
        "en": "No campaign with a control group ran last month; nothing to measure.",
    },
    "no_plan": {"zh": "本月未生成营销计划。", "en": "No campaign plan was produced this month."},
    "no_leads": {
        "zh": "没有线索数据(leads 表缺失),本节跳过。",
        "en": "No leads data (the leads table is absent); section skipped.",
    },
    "no_vehicles": {
        "zh": "缺少车辆表或足够早的销售批次,无法计算。",
        "en": "The vehicles table or an old-enough sales cohort is absent.",
    },
}

LABELS: dict[str, dict[str, tuple[str, str]]] = {
    # lifecycle stages (segments.lifecycle.STAGES) and the five groups of seed 000
    "stage": {
        "lead": ("销售线索", "Lead"),
        "prospect": ("潜在用户", "Prospect"),
        "ordered": ("订单用户", "Ordered"),
        "active_owner": ("活跃车主", "Active owner"),
        "won_back": ("已召回", "Won back"),
        "at_risk": ("流失风险", "At risk"),
        "lost": ("流失用户", "Lost"),
        "new": ("新增", "New"),
        "gone": ("移出", "Gone"),
        "owner": ("现实用户", "Owner"),
    },
    "loyalty": {
        "true": ("真正忠诚", "True loyalty"),
        "latent": ("潜在忠诚", "Latent loyalty"),
        "inertia": ("惯性忠诚", "Inertia loyalty"),
        "non_loyal": ("非忠诚", "Non-loyal"),
        "unknown": ("态度未知", "Attitude unknown"),
        "new": ("新增", "New"),
        "gone": ("移出", "Gone"),
    },
    "need": {
        "young_family": ("年轻家庭", "Young families"),
        "time_sensitive": ("时间敏感", "Time-sensitive"),
        "price_sensitive": ("价格敏感", "Price-sensitive"),
        "high_mileage_commercial": ("高里程 / 商用", "High mileage / commercial"),
    },
    "service": {  # what seed 001 suggests for each needs group
        "young_family": (
            "车内清洁消毒、儿童友好休息区、周末亲子服务",
            "interior cleaning, child-friendly waiting, weekend family service",
        ),
        "time_sensitive": (
            "上门取送车、代步车、预约快保",
            "pick-up and delivery, courtesy car, booked express service",
        ),
        "price_sensitive": (
            "ABC报价(必修 / 观察 / 不必修)、保养套餐",
            "ABC quote (must / watch / not needed), service packages",
        ),
        "high_mileage_commercial": (
            "按里程提醒保养、快修通道、车队协议",
            "mileage-based reminders, express lane, fleet agreement",
        ),
    },
    "department": {
        "customer_service": ("客服部", "Customer service"),
        "after_sales": ("售后服务部", "After-sales"),
        "sales": ("销售部", "Sales"),
        "marketing": ("市场部", "Marketing"),
    },
    "channel": {
        "phone": ("电话", "Phone"),
        "sms": ("短信", "SMS"),
        "wechat": ("微信", "WeChat"),
        "app": ("App", "App"),
        "mail": ("邮寄", "Mail"),
        "visit": ("到店", "In store"),
    },
    "group": {"target": ("目标组", "Target"), "control": ("对照组", "Control")},
    "value_tag": {
        "A": ("A 高频高额", "A frequent, high spend"),
        "B": ("B 高频低额", "B frequent, low spend"),
        "C": ("C 低频高额", "C rare, high spend"),
        "D": ("D 低频低额", "D rare, low spend"),
        "new": ("新增", "New"),
        "gone": ("移出", "Gone"),
    },
    "grade": {"A": ("A 级", "Grade A"), "B": ("B 级", "Grade B"), "C": ("C 级", "Grade C")},
    "order_class": {
        "A": ("A 合同客户(优先交车)", "A contract (deliver first)"),
        "B": ("B 意向客户(本月或下月)", "B intent (this or next month)"),
        "C": ("C 潜在客户(N+1 / N+2 月)", "C potential (N+1 / N+2)"),
    },
    "milestone": {
        "1": ("首保", "1st service"),
        "2": ("二保", "2nd service"),
        "3": ("三保", "3rd service"),
        "4": ("四保", "4th service"),
        "after_warranty": ("保修期后", "After warranty"),
    },
    "source": {
        "walk_in": ("到店", "Walk-in"),
        "phone": ("来电", "Phone"),
        "online": ("网络", "Online"),
        "referral": ("转介绍", "Referral"),
        "auto_show": ("车展", "Auto show"),
        "oem": ("厂家下发", "OEM"),
        "existing_owner": ("老车主", "Existing owner"),
        "(unknown)": ("未知", "Unknown"),
    },
    "defeat_reason": {  # the store's own words; common ones translated for the English report
        "价格": ("价格", "Price"),
        "竞品品牌": ("竞品品牌", "Competing brand"),
        "跟进不及时": ("跟进不及时", "Slow follow-up"),
        "交车周期长": ("交车周期长", "Long delivery time"),
        "暂缓购车": ("暂缓购车", "Purchase postponed"),
        "贷款未通过": ("贷款未通过", "Loan refused"),
        "(unknown)": ("未填写", "Not recorded"),
    },
    "visit_type": {
        "maintenance": ("保养", "maintenance"),
        "repair": ("维修", "repair"),
        "accident": ("事故维修", "accident repair"),
        "warranty": ("保修", "warranty work"),
        "first_service": ("首保", "first service"),
        "other": ("其他", "other"),
    },
    "customer_type": {"individual": ("个人", "individual"), "company": ("企业", "company")},
    "price_band": {
        "entry": ("入门级", "entry"),
        "mid": ("中级", "mid-range"),
        "premium": ("高端", "premium"),
    },
    "uplift_source": {"learned": ("历史学习", "learned"), "prior": ("目录先验", "catalogue prior")},
    "confidence": {
        "sure_gain": ("有把握赚钱", "earned money (sure)"),
        "likely_gain": ("可能赚钱", "probably earned"),
        "unclear": ("效果不明确", "unclear"),
        "likely_loss": ("可能亏损", "probably lost"),
        "sure_loss": ("确定亏损", "lost money (sure)"),
    },
    "model": {
        "churn": ("流失风险模型", "Churn-risk model"),
        "value": ("客户价值模型", "Value model"),
        "leads": ("线索转化模型", "Lead-conversion model"),
    },
    "naive": {
        "recency": ("按最近进厂时间排序", "ranking by the last visit"),
        "rfm_logistic": ("RFM 简单评分", "a simple RFM score"),
        "no_visit_6m": ("6个月未进厂", "no visit in 6 months"),
        "historical_average": ("历史平均消费", "historical average spend"),
        "bgnbd_gamma_gamma": ("BG/NBD 经典模型", "the classic BG/NBD model"),
        "recency_frequency": ("最近性 × 频次", "recency × frequency"),
        "lightgbm_rfm": ("仅用 RFM 的 LightGBM", "LightGBM on RFM only"),
        "source_rate": ("按线索来源的历史成交率", "the historical win rate of the source"),
    },
    "profile": {  # the 17 profile fields (data contract PROFILE_FIELDS)
        "name": ("姓名", "Name"),
        "phone": ("电话", "Phone"),
        "gender": ("性别", "Gender"),
        "birth_year": ("出生年份", "Birth year"),
        "province": ("省份", "Province"),
        "city": ("城市", "City"),
        "address": ("地址", "Address"),
        "occupation": ("职业", "Occupation"),
        "education": ("学历", "Education"),
        "marital_status": ("婚姻状况", "Marital status"),
        "has_children": ("有无子女", "Children"),
        "household_size": ("家庭人数", "Household size"),
        "income_band": ("收入档次", "Income band"),
        "wechat_id": ("微信号", "WeChat id"),
        "email": ("电子邮箱", "E-mail"),
        "preferred_channel": ("偏好渠道", "Preferred channel"),
        "hobby": ("兴趣爱好", "Hobbies"),
    },
    # column headers of the report's tables and the lists' .xlsx files
    "column": {
        "customer_id": ("客户编号", "Customer"),
        "campaign": ("活动编号", "Campaign id"),
        "campaign_label": ("活动", "Campaign"),
        "channel": ("渠道", "Channel"),
        "expected_incremental_value": ("预期增量价值(元)", "Expected incremental value (CNY)"),
        "cost": ("成本(元)", "Cost (CNY)"),
        "group": ("分组", "Group"),
        "reasons": ("原因", "Reasons"),
        "phone": ("电话(已隐藏)", "Phone (masked)"),
        "name": ("姓名", "Name"),
        "department": ("部门", "Department"),
        "value_tag": ("价值标签", "Value tag"),
        "lifecycle_stage": ("生命周期", "Lifecycle stage"),
        "churn_probability": ("流失概率", "Churn risk"),
        "predicted_value": ("预测价值(元)", "Predicted value (CNY)"),
        "reason_1": ("主要原因", "Main reason"),
        "reason_2": ("次要原因", "Second reason"),
        "n_target": ("目标组人数", "Target"),
        "n_control": ("对照组人数", "Control"),
        "contacts": ("联系人数", "Contacts"),
        "capacity": ("月度产能", "Capacity"),
        "capacity_used": ("产能占用", "Capacity used"),
        "campaigns": ("活动", "Campaigns"),
        "response_target": ("目标组回厂率", "Return rate, target"),
        "response_control": ("对照组回厂率", "Return rate, control"),
        "response_lift": ("回厂率提升", "Return-rate lift"),
        "incremental_revenue": ("增量收入(元)", "Incremental revenue (CNY)"),
        "net": ("扣除成本后(元)", "Net of cost (CNY)"),
        "verdict": ("结论", "Verdict"),
        "interval": ("95% 区间(元)", "95 % interval (CNY)"),
        "customers": ("客户数", "Customers"),
        "share": ("占比", "Share"),
        "realized_value": ("既成价值(元/人)", "Realized value (CNY each)"),
        "potential_value": ("潜在价值(元/人)", "Potential value (CNY each)"),
        "influence_value": ("影响价值(元/人)", "Influence value (CNY each)"),
        "referrals": ("转介绍(人/百人)", "Referrals per 100"),
        "service": ("建议服务", "Services to offer"),
        "at_risk_share": ("流失风险占比", "At risk"),
        "ab_share": ("A+B 占比", "A+B share"),
        "this_month": ("本月", "This month"),
        "last_month": ("上月", "Last month"),
        "change": ("变化", "Change"),
        "leads": ("线索数", "Leads"),
        "followed_up": ("已跟进", "Followed up"),
        "test_drive": ("已试驾", "Test drive"),
        "won": ("成交", "Won"),
        "delivered": ("已交车", "Delivered"),
        "lost": ("战败", "Lost"),
        "closed": ("已关闭", "Closed"),
        "loss_rate": ("战败率", "Loss rate"),
        "top_reason": ("主要战败原因", "Main reason"),
        "conversion": ("成交率", "Win rate"),
        "revenue": ("成交金额(万元)", "Sales (CNY thousand)"),
        "lead_cost": ("线索成本(元)", "Lead cost (CNY)"),
        "cost_per_sale": ("单车获客成本(元)", "Cost per sale (CNY)"),
        "holdout_conversion": ("验证期成交率", "Win rate, validation"),
        "mean_probability": ("平均成交概率", "Mean win probability"),
        "order_class": ("订单分类", "Order class"),
        "expected_delivery_month": ("预计交车月份", "Delivery month"),
        "model_of_interest": ("意向车型", "Model"),
        "units": ("预计台数", "Expected units"),
        "total": ("合计", "Total"),
        "grade": ("评级", "Grade"),
        "source": ("来源", "Source"),
        "defeat_reason": ("战败原因", "Reason"),
        "sales_consultant_id": ("销售顾问", "Consultant"),
        "conversion_probability": ("成交概率", "Win probability"),
        "lead_id": ("线索编号", "Lead"),
        "feature": ("特征", "Feature"),
        "psi": ("PSI", "PSI"),
        "metric": ("指标", "Metric"),
        "value": ("数值", "Value"),
        "stage": ("阶段", "Stage"),
        "from": ("上月", "Last month"),
        "to": ("本月", "This month"),
        "need": ("需求分群", "Needs group"),
        "loyalty_type": ("忠诚类型", "Loyalty type"),
        "budget_multiplier": ("预算倍数", "Budget ×"),
        "budget": ("预算(元)", "Budget (CNY)"),
        "spend": ("花费(元)", "Spend (CNY)"),
        "roi": ("每元回报(元)", "Return per CNY"),
        "eligible": ("符合条件", "Eligible"),
        "chosen": ("已选中", "Chosen"),
        "not_chosen_reasons": ("未选中原因(人次)", "Not chosen because (pairs)"),
        "contact_gap": ("近期已联系", "Contacted recently"),
        "yearly_contact_cap": ("年度联系次数已满", "Yearly contacts used up"),
        "cool_down": ("活动冷却期", "Campaign cool-down"),
        "campaign_yearly_cap": ("本活动年度次数已满", "Campaign's yearly cap"),
        "negative_value": ("预期价值不足", "Not worth its cost"),
        "other_campaign": ("已选其他活动", "Chosen for another campaign"),
        "over_capacity": ("部门产能已满", "Department full"),
        "over_budget": ("预算已用完", "Budget used up"),
    },
    "metric": {
        "auc": ("AUC(排序能力)", "AUC (ranking)"),
        "pr_auc": ("PR-AUC", "PR-AUC"),
        "brier": ("Brier 分数", "Brier score"),
        "ece": ("校准误差 ECE", "Calibration error (ECE)"),
        "top_decile_lift": ("前10% 提升倍数", "Top-decile lift"),
        "grade": ("评级", "Grade"),
        "n_train": ("训练样本", "Training rows"),
        "n_valid": ("验证样本", "Validation rows"),
        "n_holdout": ("测试样本", "Test rows"),
        "normalized_gini": ("标准化基尼", "Normalized Gini"),
        "spearman": ("秩相关", "Spearman"),
        "top_decile_capture": ("前10% 价值捕获", "Top-decile capture"),
        "total_ratio": ("预测总额 / 实际总额", "Predicted / realized total"),
        "naive_rule": ("最佳简单规则", "Best naive rule"),
        "baseline": ("基准", "Baseline"),
    },
}


def t(key: str, lang: str = "zh", **kwargs: object) -> str:
    """The text for ``key`` in ``lang`` (falls back to the key in words), formatted."""
    entry = TEXT.get(key)
    if entry is None:
        for kind in ("stage", "department", "column"):  # older callers pass these bare
            if key in LABELS[kind]:
                return label(kind, key, lang)
        text = words(key)
    else:
        text = entry.get(lang) or entry["en"]
    return text.format(**kwargs) if kwargs else text


def label(kind: str, key: object, lang: str = "zh") -> str:
    """The display text of code ``key`` of ``kind`` (stage, department, column …) in ``lang``."""
    k = str(key)
    if kind == "campaign":
        names = _campaign_names()
        if k in names:
            return str(names[k].get(lang if lang == "zh" else "en", k))
        return words(k)
    entry = LABELS.get(kind, {}).get(k)
    if entry is None:
        return words(k)
    return entry[0] if lang == "zh" else entry[1]


def labels(kind: str, keys, lang: str = "zh") -> list[str]:
    """:func:`label` of each key."""
    return [label(kind, k, lang) for k in keys]


def words(code: str) -> str:
    """A code name as words (``won_back`` → ``won back``): never snake_case on a page."""
    return str(code).replace("_", " ")


@lru_cache(maxsize=1)
def _campaign_names() -> dict[str, dict[str, str]]:
    """Each catalogue campaign's display names (``configs/campaigns.yaml``: ``name: {zh, en}``)."""
    from cvm.config import load_config

    entries = load_config("campaigns").get("campaigns") or {}
    return {str(cid): dict(e.get("name") or {}) for cid, e in entries.items()}
