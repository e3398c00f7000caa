"""Report text in Chinese (default) and English."""

from __future__ import annotations

TEXT: dict[str, dict[str, str]] = {
    "title": {"zh": "客户价值管理月报", "en": "Customer value management — monthly report"},
    "subtitle": {"zh": "截至 {as_of} · 预测期 {h} 个月", "en": "As of {as_of} · horizon {h} months"},
    # sections
    "kpis": {"zh": "核心指标", "en": "Headline KPIs"},
    "lifecycle": {"zh": "客户生命周期", "en": "Customer lifecycle"},
    "value": {"zh": "客户价值标签", "en": "Customer value tags"},
    "retention": {"zh": "保养里程碑留存率", "en": "Retention by service milestone"},
    "models": {"zh": "模型质量", "en": "Model quality"},
    "drivers": {"zh": "流失与价值驱动因素", "en": "What drives churn and value"},
    "section_at_risk": {"zh": "高价值流失风险客户", "en": "High-value customers at risk"},
    "campaigns": {"zh": "本月营销计划", "en": "This month's campaign plan"},
    "measurement": {"zh": "上月活动效果(对照组)", "en": "Last month's campaigns against control"},
    "quality": {"zh": "数据质量与漂移", "en": "Data quality and drift"},
    "churn_drivers": {"zh": "流失风险的主要驱动因素", "en": "Main drivers of churn risk"},
    "value_drivers": {"zh": "客户价值的主要驱动因素", "en": "Main drivers of customer value"},
    "lifecycle_transitions": {"zh": "生命周期迁移(上月→本月)",
                              "en": "Stage transitions, last month → this month"},
    "value_migration": {"zh": "价值标签迁移(上月→本月)",
                        "en": "Value-tag migration, last month → this month"},
    # KPIs
    "base": {"zh": "基盘客户", "en": "Customer base"},
    "active": {"zh": "活跃客户", "en": "Active"},
    "at_risk_n": {"zh": "流失风险", "en": "At risk"},
    "lost": {"zh": "已流失", "en": "Lost"},
    "return_rate": {"zh": "年回厂率", "en": "Yearly return rate"},
    "yearly_loss": {"zh": "年流失率", "en": "Yearly loss"},
    "ab_share": {"zh": "A+B 客户占比", "en": "A+B share"},
    "mom": {"zh": "较上月", "en": "vs last month"},
    # stages and tags
    "lead": {"zh": "销售线索", "en": "Lead"},
    "leads": {"zh": "销售线索与漏斗", "en": "Leads and the sales funnel"},
    "prospect": {"zh": "潜在用户", "en": "Prospect"},
    "ordered": {"zh": "订单用户", "en": "Ordered"},
    "active_owner": {"zh": "活跃车主", "en": "Active owner"},
    "at_risk": {"zh": "流失风险", "en": "At risk"},
    "won_back": {"zh": "已召回", "en": "Won back"},
    "new": {"zh": "新增", "en": "New"},
    "gone": {"zh": "移出", "en": "Gone"},
    # model words
    "auc": {"zh": "AUC", "en": "AUC"},
    "roc": {"zh": "ROC 曲线", "en": "ROC curve"},
    "calibration": {"zh": "校准", "en": "Calibration"},
    "gain": {"zh": "累积增益", "en": "Cumulative gain"},
    "predicted": {"zh": "预测概率", "en": "Predicted probability"},
    "observed": {"zh": "实际比例", "en": "Observed rate"},
    "share_customers": {"zh": "客户占比(按风险排序)", "en": "Share of customers (by risk)"},
    "share_customers_value": {"zh": "客户占比(按预测价值排序)", "en": "Share of customers (by predicted value)"},
    "share_churners": {"zh": "流失客户捕获占比", "en": "Share of churners captured"},
    "share_value": {"zh": "价值捕获占比", "en": "Share of value captured"},
    "model": {"zh": "模型", "en": "Model"},
    "random": {"zh": "随机", "en": "Random"},
    "grade": {"zh": "模型评级", "en": "Model grade"},
    "naive_rule": {"zh": "最佳简单规则", "en": "Best naive rule"},
    "skipped": {"zh": "未运行:{why}", "en": "Not run: {why}"},
    "none": {"zh": "无", "en": "None"},
    "department": {"zh": "部门", "en": "Department"},
    "campaign": {"zh": "活动", "en": "Campaign"},
    "customers": {"zh": "客户数", "en": "Customers"},
    "control": {"zh": "对照组", "en": "Control"},
    "target": {"zh": "目标组", "en": "Target"},
    "cost": {"zh": "成本(元)", "en": "Cost (CNY)"},
    "expected_value": {"zh": "预期增量价值(元)", "en": "Expected incremental value (CNY)"},
    "budget": {"zh": "预算", "en": "Budget"},
    "customer_service": {"zh": "客服部", "en": "Customer service"},
    "after_sales": {"zh": "售后服务部", "en": "After-sales"},
    "sales": {"zh": "销售部", "en": "Sales"},
    "marketing": {"zh": "市场部", "en": "Marketing"},
}


def t(key: str, lang: str = "zh", **kwargs: object) -> str:
    """The text for ``key`` in ``lang`` (falls back to the key itself), formatted."""
    entry = TEXT.get(key)
    if entry is None:
        return key.format(**kwargs) if kwargs else key
    text = entry.get(lang) or entry["en"]
    return text.format(**kwargs) if kwargs else text
