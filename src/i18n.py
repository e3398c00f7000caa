"""User-facing text in Chinese (default) and English: the one i18n table of the project.

``TEXT`` holds every title and sentence as a keyed message with ``zh`` and ``en`` (``{name}``
placeholders, format specs allowed: ``{share:.0%}``); :func:`t` looks one up, and a key the
table lacks is an error (``tests/test_i18n.py`` checks every key the code asks for, and that
both languages have the same placeholders). ``LABELS`` holds every value a page or a list
shows, by kind: column headers, lifecycle stages, loyalty types, needs, departments,
channels, lead sources, defeat reasons, order classes, feature names … Campaign names come
from the catalogue (``configs/campaigns.yaml``, ``name: {zh, en}``) through :func:`label` with
kind ``campaign``. Nothing on a manager's page is shown by its code name: an unknown code (a
value of the data) is turned into words (underscores become spaces) rather than shown raw.
"""

from __future__ import annotations

from functools import lru_cache

LANGS = ("zh", "en")
"""The languages of every entry (tests/test_i18n.py checks each has both)."""

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
    # punctuation between the items of a list in a sentence, and between its clauses
    "list_sep": {"zh": "、", "en": ", "},
    "clause_sep": {"zh": "；", "en": "; "},
    "store_league": {
        "zh": "门店排名",
        "en": "Stores",
    },
    "heading_with_note": {
        "zh": "{title}({note})",
        "en": "{title} ({note})",
    },
    "grade_verdict_A": {
        "zh": "明显优于简单规则,可放心使用",
        "en": "clearly better than the simple rule: use it",
    },
    "grade_verdict_B": {
        "zh": "优于简单规则,可以使用",
        "en": "better than the simple rule: fit for use",
    },
    "grade_verdict_C": {
        "zh": "略优于简单规则,谨慎参考",
        "en": "slightly better than the simple rule: use with care",
    },
    "grade_verdict_D": {
        "zh": "不比简单规则好,请先检查数据",
        "en": "no better than the simple rule: check the data first",
    },
    "churn_drivers_intro": {
        "zh": "流失风险高的客户通常:",
        "en": "Customers at high churn risk typically show:",
    },
    "value_drivers_intro": {
        "zh": "高价值客户通常:",
        "en": "High-value customers typically show:",
    },
    "shap_feature_value": {
        "zh": "特征取值",
        "en": "Feature value",
    },
    "shap_high": {
        "zh": "高",
        "en": "High",
    },
    "shap_low": {
        "zh": "低",
        "en": "Low",
    },
    "shap_value_axis": {
        "zh": "SHAP 值(对预测的影响)",
        "en": "SHAP value (impact on model output)",
    },
    "shap_other_features": {
        "zh": "其余 {n} 个特征之和",
        "en": "Sum of {n} other features",
    },
    "note_flat_uplift": {
        "zh": (
            "以下活动的个体增量未能在历史上验证(样本外Qini区间未高于0),"
            "对每位客户使用活动的实测平均值:{campaigns}"
        ),
        "en": (
            "Per-customer uplift not learned (out-of-time Qini interval not above 0): every "
            "customer valued at the campaign's measured mean for: {campaigns}"
        ),
    },
    "feature_unknown": {
        "zh": "{name}:未知",
        "en": "{name}: unknown",
    },
    "service_due_this_month": {
        "zh": "保养本月到期",
        "en": "service due this month",
    },
    # the report's sentences (cvm.reporting.report), by section
    "upstream_missing": {
        "zh": "缺少上游结果",
        "en": "an earlier step's result is missing",
    },
    "summary_base": {
        "zh": (
            "基盘客户 {base} 人,较上月 {d};其中活跃 {act} 人、流失风险 "
            "{risk} 人、已流失 {lost} 人,年回厂率 {rr}。"
        ),
        "en": (
            "The customer base is {base} ({d} on last month): {act} active, {risk} at risk and "
            "{lost} lost; the yearly return rate is {rr}."
        ),
    },
    "summary_risk": {
        "zh": (
            "模型预测 {n} 位客户未来 {h} 个月不再付费回厂的概率(流失概率)达 {thr} "
            "以上,涉及预期价值约 {v};其中高价值(A/B)客户 {ab} 人,名单已下发各部门。"
        ),
        "en": (
            "The model gives {n} customers a {thr} or higher chance of no paid visit in the next "
            "{h} months (churn risk), with about {v} of expected value at stake; {ab} of them "
            "are high-value (A/B) and are on the departments' lists."
        ),
    },
    "summary_ab": {
        "zh": "A+B 高价值客户占比 {ab},目标 {tg},{rel}(较上月 {mom})。",
        "en": (
            "The A+B (high-value) share is {ab} against a target of {tg}: {rel} ({mom} on last "
            "month)."
        ),
    },
    "summary_ab_short": {
        "zh": "还差 {g}",
        "en": "{g} short",
    },
    "summary_ab_on_target": {
        "zh": "已达标",
        "en": "on target",
    },
    "summary_plan_dept": {
        "zh": "{d} {n} 人(预期 {v})",
        "en": "{d} {n} ({v})",
    },
    "summary_plan": {
        "zh": (
            "本月计划联系 {n} 人(另留对照组 {c} 人不联系),成本 {cost},"
            "预期增量价值 {v}(95% 区间 {lo} 至 {hi});按部门:{d}。"
        ),
        "en": (
            "This month's plan contacts {n} customers (and holds {c} back as a control group) "
            "for {cost}, expecting {v} of incremental value (95 % interval {lo} to {hi}); by "
            "department: {d}."
        ),
    },
    "summary_result_item": {
        "zh": "净收益 {v},{w}",
        "en": "net {v}, {w}",
    },
    "summary_results": {
        "zh": "上月 {n} 项活动与对照组比较:{p}。",
        "en": "Last month's {n} campaigns against their control groups: {p}.",
    },
    "summary_data_quality": {
        "zh": "数据质量:{w} 条校验提示,客户档案完整度 {c},{d} 个特征较上月明显漂移。",
        "en": (
            "Data quality: {w} validation warnings, customer profiles {c} complete; features "
            "that drifted noticeably since last month: {d}."
        ),
    },
    "lifecycle_means": {
        "zh": (
            "五类客群:销售线索 {l}、潜在用户 {p}、订单用户 {o}、现实用户 "
            "{w}(其中流失风险 {r}、已召回 {b})、流失用户 {x}。本月新增线索 "
            "{nl} 条;{tr} 位车主转入流失风险,{tl} 位由风险转为流失,{bk} "
            "位流失客户被召回。"
        ),
        "en": (
            "The five groups: {l} leads, {p} prospects, {o} ordered, {w} owners (of whom {r} at "
            "risk and {b} won back) and {x} lost. {nl} new leads this month; {tr} owners slipped "
            "to at risk, {tl} went from at risk to lost, {bk} lost customers came back."
        ),
    },
    "lifecycle_todo": {
        "zh": (
            "客服部对流失风险车主做回访和保养提醒(半年未进厂即联系,不等满一年);"
            "售后优先联系下表的高价值风险客户;市场部与销售部跟进潜在用户的试驾与报价。"
        ),
        "en": (
            "Customer service calls at-risk owners with a service reminder (after six months "
            "without a visit, not a year); after-sales calls the high-value customers at risk "
            "below first; marketing and sales follow up prospects with test drives and quotes."
        ),
    },
    "retention_cohort": {
        "zh": "{n} 辆本店售出、车龄满 {y:.0f} 年的车",
        "en": "{n} vehicles sold here at least {y:.0f} years ago",
    },
    "retention_means": {
        "zh": "同一批车辆中,做过{a}的占 {x},做过{b}的只剩 {y}:这是最大的一步流失。",
        "en": (
            "Of the same vehicles, {x} came for the {a} but only {y} for the {b}: the largest "
            "single loss."
        ),
    },
    "retention_todo": {
        "zh": "在这一节点前一个月主动提醒并提供套餐(如二保留存活动),把客户留在店内。",
        "en": (
            "Remind these customers a month before that milestone and offer a package (the "
            "second-service retention campaign) to keep them."
        ),
    },
    "value_means": {
        "zh": (
            "A+B 高价值客户占比 {ab}(目标 {tg},较上月 {mom});本月 {up} "
            "位客户升入 A/B,{down} 位从 A/B 降到 C/D。A 类来得勤、花得多;B "
            "类来得勤、单次花费低;C 类花得多、来得少;D 类两者都低。预测价值指客户未来 {h} "
            "个月给本店带来的毛利:客户自付、保险公司理赔和厂家索赔的收入,各乘其毛利率。"
        ),
        "en": (
            "The A+B share is {ab} (target {tg}, {mom} on last month); {up} customers moved up "
            "into A/B this month and {down} dropped from A/B to C/D. A visit often and spend "
            "much; B visit often, spend little; C spend much, visit rarely; D neither. Predicted "
            "value is the gross margin a customer brings the store over the next {h} months: "
            "what they, their insurer and the manufacturer's warranty pay, each times its margin."
        ),
    },
    "value_todo": {
        "zh": (
            "对 A/B 做高价值关怀(人、车、生活),守住占比;对 C 类做回厂激活,提高来店频次;"
            "对 B 类推荐保养套餐,提高客单价;D 类只做低成本触达。"
        ),
        "en": (
            "Care for A and B (person, car, life) to hold the share; bring C back more often "
            "with activation; offer B service packages to raise the ticket; reach D only through "
            "low-cost channels."
        ),
    },
    "value_model_skipped": {
        "zh": "价值模型未运行",
        "en": "the value model did not run",
    },
    "triad_means": {
        "zh": (
            "既成价值是客户已花的钱,潜在价值是未来 {h} 个月预计的毛利,"
            "影响价值是其转介绍带来的购车毛利。A 类客户贡献了三项合计的 {s}。"
        ),
        "en": (
            "Realized value is what customers have spent, potential value the margin expected "
            "over the next {h} months, influence value the margin of the sales their referrals "
            "brought. A customers hold {s} of the three together."
        ),
    },
    "triad_todo": {
        "zh": (
            "影响价值高的客户(常转介绍)交给销售部做转介绍邀请;"
            "潜在价值高但已流失风险的客户优先挽留。"
        ),
        "en": (
            "Give customers with high influence value (frequent referrers) to sales for referral "
            "invitations; keep those with high potential value who are at risk first."
        ),
    },
    "loyalty_behaviour_low": {
        "zh": "行为忠诚低(少回厂)",
        "en": "Behaviour: rarely back",
    },
    "loyalty_behaviour_high": {
        "zh": "行为忠诚高(常回厂)",
        "en": "Behaviour: often back",
    },
    "loyalty_attitude_high": {
        "zh": "态度忠诚高",
        "en": "Attitude: satisfied",
    },
    "loyalty_attitude_low": {
        "zh": "态度忠诚低",
        "en": "Attitude: not",
    },
    "loyalty_means": {
        "zh": (
            "态度(满意度、投诉)× 行为(回厂次数)把客户分成四类:真正忠诚 {t},潜在忠诚 "
            "{l}(满意但少来),惯性忠诚 {i}(常来但不满意),非忠诚 {n};另有 {u} "
            "人没有回访或投诉记录,态度未知。本月 {a} 人转为真正忠诚,{b} 人离开真正忠诚。"
        ),
        "en": (
            "Attitude (satisfaction, complaints) × behaviour (returns) gives four types: {t} "
            "true loyal, {l} latent (satisfied, rarely back), {i} inertia (often back, not "
            "satisfied), {n} non-loyal; {u} have no survey or complaint, so their attitude is "
            "unknown. {a} became true loyal this month, {b} left it."
        ),
    },
    "loyalty_todo": {
        "zh": (
            "目标是把非忠诚、潜在忠诚、惯性忠诚客户转为真正忠诚:潜在忠诚 → 主动邀约和保养提醒;"
            "惯性忠诚 → 回访、解决投诉、用 ABC 报价建立信任(奖励只能买来行为,买不来态度);"
            "非忠诚 → 先了解原因;态度未知 → 客服回访补齐满意度。"
        ),
        "en": (
            "The goal is to move non-loyal, latent and inertia customers to true loyalty: latent "
            "→ invite them in, remind them of services; inertia → call back, settle complaints, "
            "build trust with the ABC quote (rewards buy behaviour, not attitude); non-loyal → "
            "learn why first; unknown → a satisfaction call by customer service."
        ),
    },
    "no_needs_tags": {
        "zh": "没有需求标签",
        "en": "no needs tags",
    },
    "needs_means": {
        "zh": (
            "按可观察的数据(家庭、等待投诉与周末来店、报价接受率、里程)分出需求群;"
            "最大的一群是{g}({n} 人)。同一客户可以属于多个群。"
        ),
        "en": (
            "Needs groups come from what the data shows (household, wait complaints and weekend "
            "visits, quote acceptance, mileage); the largest is {g} ({n}). A customer can be in "
            "several groups."
        ),
    },
    "needs_todo": {
        "zh": (
            "按表中建议为各群定制服务:年轻家庭提供车内清洁和儿童友好休息区,"
            "时间敏感客户提供上门取送车和代步车。"
        ),
        "en": (
            "Offer each group the services in the table: interior cleaning and child-friendly "
            "waiting for young families, pick-up and a courtesy car for the time-sensitive."
        ),
    },
    "plan_means": {
        "zh": (
            "预算 {b} 中计划花费 {c},预期增量价值 {v}(95% 区间 {lo} 至 "
            "{hi}),即每花 1 元预期带来 {r} 元。价值最大的活动是{best}。"
            "每个活动都留有对照组(不联系),下月据此评估真实效果。"
        ),
        "en": (
            "Of the {b} budget the plan spends {c} and expects {v} of incremental value (95 % "
            "interval {lo} to {hi}): {r} per CNY spent. The largest is {best}. Every campaign "
            "keeps a control group (not contacted) so next month measures what it really earned."
        ),
    },
    "plan_todo": {
        "zh": (
            "各部门按名单执行:名单中的对照组客户本月不要联系;产能占用接近 100% 的部门请提前排班。"
        ),
        "en": (
            "Each department works its list: do not contact the control-group customers on it "
            "this month; departments near 100 % of capacity should plan staff ahead."
        ),
    },
    "results_means": {
        "zh": (
            "每个活动的目标组与随机留出的对照组比较,差额就是活动带来的增量收入(已扣成本,观察约 "
            "{d} 天)。{w} 项活动赚了钱或很可能赚了钱,{l} 项亏损或很可能亏损,其余效果不明确。"
        ),
        "en": (
            "Each campaign's target group is compared with its random control group: the "
            "difference is what the campaign earned (net of cost, about {d} days observed). {w} "
            "campaigns earned or probably earned money, {l} lost or probably lost money, the "
            "others are unclear."
        ),
    },
    "results_renewal_pending": {
        "zh": "续保活动的佣金要到保单到期后才看得到,不据此判断。",
        "en": (
            "An insurance renewal call earns its commission when the policy ends, later than "
            "this: it is not judged on this window."
        ),
    },
    "results_renewal_measured": {
        "zh": (
            "按已到期的保单衡量:{c}活动过去有 {n} 次电话的保单已到期,续保率与对照组相差 {u}"
            "(95% 区间 {lo} 至 {hi});按每单佣金 {fee},每次电话约带来 {v}佣金。"
        ),
        "en": (
            "Measured where the policies have ended: {n} past {c} calls had their policies "
            "end, and their renewal rate differed from their control group's by {u} (95 % "
            "interval {lo} to {hi}); at {fee} of commission a policy, about {v} of commission "
            "per call."
        ),
    },
    "results_todo": {
        "zh": (
            "有把握赚钱的活动继续并可扩大;亏损的活动调整对象或优惠;效果不明确的活动继续保留对照组,"
            "积累样本后再判断。"
        ),
        "en": (
            "Keep and widen the campaigns that earned money with confidence; change the audience "
            "or offer of those that lost; keep control groups on the unclear ones until the "
            "sample is large enough."
        ),
    },
    "grade_churn": {
        "zh": ("{m}:{g} 级 — 排序能力 AUC {a},最佳简单规则({r})为 {b};{v}。"),
        "en": "{m}: grade {g} — AUC {a} against {b} for the best simple rule ({r}); {v}.",
    },
    "grade_value": {
        "zh": ("{m}:{g} 级 — 区分高低价值客户的能力(标准化基尼){a},最佳简单规则({r})为 {b};{v}。"),
        "en": (
            "{m}: grade {g} — normalized Gini {a} against {b} for the best simple rule ({r}); {v}."
        ),
    },
    "grade_leads": {
        "zh": "{m}:{g} 级 — AUC {a},按线索来源的历史成交率为 {b};{v}。",
        "en": "{m}: grade {g} — AUC {a} against {b} for the source's historical win rate; {v}.",
    },
    "appendix_grades": {
        "zh": "评级:与不用模型的最佳简单规则相比提升多少(A 最好)。以下为技术指标,供分析人员核对。",
        "en": (
            "Grades: how much better than the best simple rule without a model (A best). The "
            "technical tables below are for analysts."
        ),
    },
    "shap_axis": {
        "zh": "平均影响(SHAP 绝对值)",
        "en": "mean |SHAP value|",
    },
    "missing_tables": {
        "zh": "缺少的数据表:{t}",
        "en": "Tables absent: {t}",
    },
    # the sales-leads section (cvm.reporting.leads_section)
    "leads_means": {
        "zh": (
            "近12个月新增线索 {leads} 条,成交 {won} 条(成交率 {conv});"
            "最常见的战败原因是「{reason}」,占战败的 {share}。"
        ),
        "en": (
            "{leads} leads in the last 12 months, {won} won ({conv}); the most common reason for "
            'a lost deal is "{reason}" ({share} of lost deals).'
        ),
    },
    "leads_grade_ratio": {
        "zh": "A 级线索的成交率是 C 级的 {ratio} 倍。",
        "en": " A-grade leads convert {ratio}× as often as C-grade ones.",
    },
    "leads_todo": {
        "zh": (
            "销售部当天跟进 A 级线索、本周跟进 B 级;C 级交客服部定期培育。"
            "针对主要战败原因改进(如跟进不及时 → 设定 24 小时首次回访)。A "
            "类订单优先排产交车。"
        ),
        "en": (
            "Sales follows up A leads the same day and B leads this week; customer service "
            "nurtures C leads. Act on the main reason for lost deals (slow follow-up → a first "
            "call within 24 hours). Deliver A-class orders first."
        ),
    },
    # the group's summary (cvm.group.league.group_summary)
    "group_size": {
        "zh": (
            "集团{n}家门店,客户{customers:,}人,其中活跃{active:,}人;A+B客户占比{ab_share:.1%}。"
        ),
        "en": "{n} stores, {customers:,} customers, {active:,} active; A+B share {ab_share:.1%}.",
    },
    "group_retention": {
        "zh": ("第二次保养留存最好的是{best}({hi:.0%}),最弱的是{worst}({lo:.0%})。"),
        "en": "Best retention at the 2nd service: {best} ({hi:.0%}); weakest: {worst} ({lo:.0%}).",
    },
    "group_value_at_risk": {
        "zh": "流失风险价值最高的门店是{store},占集团的{share:.0%}。",
        "en": "Most value at risk: {store}, {share:.0%} of the group's.",
    },
    "group_plan": {
        "zh": (
            "本月计划:{targets:,}位客户,花费{spend:,"
            ".0f}元(预算{budget:,.0f}元),预期增量价值{value:,.0f}元。"
        ),
        "en": (
            "This month's plan: {targets:,} customers, {spend:,.0f} CNY spent of {budget:,.0f}, "
            "expected incremental value {value:,.0f} CNY."
        ),
    },
    "group_thin": {
        "zh": "数据不足的门店:{stores}(按集团模型评分)。",
        "en": "Stores with too little data: {stores} (scored by the group's model).",
    },
    # the group report and the stores' pages (cvm.reporting.stores)
    "group_total": {
        "zh": "集团合计",
        "en": "Group",
    },
    "league_note": {
        "zh": (
            "排名:1 为集团内最好(流失风险越低越好;风险价值 1 为最多)。"
            "各门店按其门店页面查看明细:stores/<门店>/report.html。"
        ),
        "en": (
            "Rank 1 = best in the group (lower churn risk is better; value at risk: 1 = the most "
            "at stake). Each store's page: stores/<store>/report.html."
        ),
    },
    "store_thin": {
        "zh": (
            "本店活跃客户仅{n}人,数据不足以单独建模:客户按集团模型评分,各项数字波动较大,"
            "请谨慎解读。"
        ),
        "en": (
            "This store has only {n} active customers: too little data for a model of its own. "
            "Its customers are scored by the group's model; its figures are noisy."
        ),
    },
    "rank_suffix": {
        "zh": "(排名)",
        "en": " (rank)",
    },
    "store_figure": {
        "zh": "指标",
        "en": "Figure",
    },
    "store_this": {
        "zh": "本店",
        "en": "Store",
    },
    "store_rank_of": {
        "zh": "排名(共{n}家)",
        "en": "Rank of {n}",
    },
    "store_group": {
        "zh": "集团",
        "en": "Group",
    },
    "store_vs_group": {
        "zh": "本店与集团",
        "en": "The store and the group",
    },
    "store_value_tags": {
        "zh": "客户价值标签(本店阈值)",
        "en": "Value tags (the store's own thresholds)",
    },
    "store_tag_thresholds": {
        "zh": ("高频:每年进厂≥{visits:.2f}次;高消费:单次付费≥{spend:,.0f}元(本店客户的中位数)。"),
        "en": (
            "High frequency: ≥ {visits:.2f} visits a year; high spend: ≥ {spend:,.0f} CNY a "
            "visit (the medians of this store's customers)."
        ),
    },
    "store_tag": {
        "zh": "标签",
        "en": "Tag",
    },
    "store_plan": {
        "zh": "本月计划",
        "en": "This month's plan",
    },
    "store_budget": {
        "zh": "预算{budget}元;各部门月度产能:{capacities}",
        "en": "Budget {budget} CNY; department capacities: {capacities}",
    },
    "store_no_plan": {
        "zh": "本月无计划客户。",
        "en": "No customers planned this month.",
    },
    "store_lists": {
        "zh": "部门名单",
        "en": "Department lists",
    },
    "store_most_at_risk": {
        "zh": "流失风险最高的客户",
        "en": "Customers most at risk",
    },
    "store_title": {
        "zh": "门店 {dealer} · 客户价值管理月报",
        "en": "Store {dealer} — monthly report",
    },
    "as_of": {
        "zh": "截至 {as_of}",
        "en": "As of {as_of}",
    },
    # the reasons column of the department lists (cvm.campaigns.lists.reasons)
    "list_uplift": {
        "zh": "回厂率提升",
        "en": "return-rate uplift",
    },
    "list_pts": {
        "zh": "个百分点",
        "en": "pts",
    },
    "list_stake": {
        "zh": "客户价值",
        "en": "customer value",
    },
    "list_cost": {
        "zh": "成本",
        "en": "cost",
    },
    "list_yuan": {
        "zh": "元",
        "en": "CNY",
    },
    "list_stage": {
        "zh": "阶段",
        "en": "stage",
    },
    "list_tag": {
        "zh": "价值标签",
        "en": "value tag",
    },
    "list_churn": {
        "zh": "流失概率",
        "en": "churn risk",
    },
    "list_control": {
        "zh": "对照组:本月不联系",
        "en": "control group: do not contact this month",
    },
    # a lead's reasons (cvm.leads.reasons): its feature at value {v}
    "lead_reason_age_days": {
        "zh": "首次接触后 {v:.0f} 天",
        "en": "{v:.0f} days since first contact",
    },
    "lead_reason_budget": {
        "zh": "预算 {v:,.0f} 元",
        "en": "budget {v:,.0f} CNY",
    },
    "lead_reason_model_price": {
        "zh": "意向车型成交均价 {v:,.0f} 元",
        "en": "model's typical price {v:,.0f} CNY",
    },
    "lead_reason_budget_gap": {
        "zh": "预算与车价差 {v:+.0%}",
        "en": "budget vs price {v:+.0%}",
    },
    "lead_reason_abs_budget_gap": {
        "zh": "预算与车价偏差 {v:.0%}",
        "en": "budget off the price by {v:.0%}",
    },
    "lead_reason_test_drive": {
        "zh": "已试驾",
        "en": "took a test drive",
    },
    "lead_reason_days_since_test_drive": {
        "zh": "{v:.0f} 天前试驾",
        "en": "test drive {v:.0f} days ago",
    },
    "lead_reason_followups": {
        "zh": "已跟进 {v:.0f} 次",
        "en": "{v:.0f} follow-ups so far",
    },
    "lead_reason_days_since_last_followup": {
        "zh": "{v:.0f} 天前最近跟进",
        "en": "last follow-up {v:.0f} days ago",
    },
    "lead_reason_followups_per_30d": {
        "zh": "每月跟进 {v:.1f} 次",
        "en": "{v:.1f} follow-ups a month",
    },
    "lead_reason_source": {
        "zh": "线索来源:{v}",
        "en": "source: {v}",
    },
    "lead_reason_model_of_interest": {
        "zh": "意向车型:{v}",
        "en": "model of interest: {v}",
    },
    "lead_reason_other": {
        "zh": "{name}:{v}",
        "en": "{name}: {v}",
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
        "renewal_pending": ("待保单到期后判断", "judged once the policies end"),
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
    # the league table's columns (cvm.reporting.stores, in this order)
    "league": {
        "dealer_id": ("门店", "Store"),
        "customers": ("客户数", "Customers"),
        "active": ("活跃客户", "Active"),
        "retention_2nd_service": ("二保留存(排名)", "2nd-service retention (rank)"),
        "retention_after_warranty": ("保修期后留存(排名)", "After-warranty retention (rank)"),
        "ab_share": ("A+B占比(排名)", "A+B share (rank)"),
        "churn_risk": ("流失风险客户占比(排名)", "Churn risk (rank)"),
        "value_at_risk": ("风险价值(排名)", "Value at risk (rank)"),
        "budget": ("预算", "Budget"),
        "plan_targets": ("计划客户", "Plan: customers"),
        "plan_spend": ("计划花费", "Plan: spend"),
        "plan_value": ("预期增量价值(排名)", "Plan: expected value (rank)"),
        "measured_response_lift": ("上月实测提升(排名)", "Last month's measured lift (rank)"),
        "measured_incremental_revenue": ("上月增量收入", "Last month's incremental revenue"),
    },
    # every feature's name in words (charts, drift tables: never a code name on a page);
    # the features' reason sentences are their entries in cvm.features.registry
    "feature": {
        "months_since_last_visit": ("距上次进厂月数", "months since the last visit"),
        "months_since_last_paid_visit": ("距上次付费进厂月数", "months since the last paid visit"),
        "tenure_months": ("客户时长(月)", "months as a customer"),
        "n_visits_total": ("累计进厂次数", "visits in total"),
        "n_paid_visits_total": ("累计付费进厂次数", "paid visits in total"),
        "paid_spend_total": ("累计付费金额", "paid spend in total"),
        "avg_paid_ticket": ("平均单次付费", "average paid ticket"),
        "n_visits_{w}m": ("近{w}个月进厂次数", "visits in the last {w} months"),
        "n_paid_visits_{w}m": ("近{w}个月付费进厂次数", "paid visits in the last {w} months"),
        "paid_spend_{w}m": ("近{w}个月付费金额", "paid spend in the last {w} months"),
        "paid_visit_trend": ("付费进厂次数趋势", "trend of paid visits"),
        "paid_spend_trend": ("付费金额趋势", "trend of paid spend"),
        "gap_mean_months": ("平均进厂间隔", "usual interval between visits"),
        "gap_cv": ("进厂间隔不规律程度", "irregularity of visit intervals"),
        "last_gap_months": ("最近两次进厂间隔", "last interval between visits"),
        "recency_gap_ratio": ("未进厂时长与平时间隔之比", "absence against the usual interval"),
        "warranty_spend_{w}m": ("近{w}个月保修维修金额", "warranty work in the last {w} months"),
        "insurer_spend_{w}m": (
            "近{w}个月保险理赔金额",
            "insurer-paid repairs in the last {w} months",
        ),
        "paid_share_of_spend": ("自费金额占比", "share of spend paid by the customer"),
        "avg_wait_minutes": ("平均等待时间", "average waiting time"),
        "last_wait_minutes": ("上次等待时间", "waiting time at the last visit"),
        "quote_acceptance_rate": ("报价接受率", "quote acceptance"),
        "n_advisors_{w}m": ("近{w}个月接待顾问数", "service advisors seen in {w} months"),
        "advisor_changed": ("更换服务顾问", "service advisor changed"),
        "mileage_rate_km_month": ("月均行驶里程", "kilometres a month"),
        "last_mileage_km": ("上次进厂里程", "odometer at the last visit"),
        "est_mileage_km": ("估计当前里程", "estimated odometer"),
        "months_since_service": ("距上次保养月数", "months since the last maintenance"),
        "n_services_vehicle": ("当前车辆保养次数", "services of the current vehicle"),
        "km_since_service": ("上次保养后行驶里程", "kilometres since the last maintenance"),
        "service_due_ratio": ("保养间隔完成度", "share of the service interval reached"),
        "service_overdue_months": ("保养逾期月数", "months the service is overdue"),
        "last_visit_type": ("上次进厂类型", "type of the last visit"),
        "profile_completeness": ("客户档案完整度", "profile completeness"),
        "distance_km": ("到店距离", "distance to the store"),
        "customer_type": ("客户类型", "customer type"),
        "n_vehicles": ("拥有车辆数", "vehicles owned"),
        "vehicle_age_months": ("车龄", "vehicle age"),
        "warranty_months_left": ("质保剩余月数", "warranty months left"),
        "warranty_km_left": ("质保剩余里程", "warranty kilometres left"),
        "insurance_months_left": ("距保险到期月数", "months to the insurance renewal"),
        "sold_by_store": ("本店售车", "vehicle sold by the store"),
        "price_band": ("车型价位", "price band"),
        "last_advisor_left": ("服务顾问已离职", "service advisor has left"),
        "n_purchases": ("在本店购车数", "vehicles bought here"),
        "months_since_last_purchase": ("距上次购车月数", "months since the last purchase"),
        "n_referrals": ("转介绍人数", "buyers referred"),
        "n_leads_{w}m": ("近{w}个月销售线索数", "sales leads in {w} months"),
        "has_open_lead": ("有未关闭销售线索", "open sales lead"),
        "n_contacts_{w}m": ("近{w}个月被联系次数", "contacts in {w} months"),
        "campaign_responses": ("活动响应次数", "campaign responses"),
        "campaign_response_rate": ("活动响应率", "campaign response rate"),
        "months_since_last_contact": ("距上次联系月数", "months since the last contact"),
        "n_surveys_{w}m": ("近{w}个月回访次数", "surveys in {w} months"),
        "avg_satisfaction_{w}m": ("平均满意度", "average satisfaction"),
        "avg_nps_{w}m": ("推荐意愿", "likelihood to recommend"),
        "last_satisfaction": ("最近一次满意度", "last satisfaction score"),
        "n_complaints_{w}m": ("近{w}个月投诉次数", "complaints in {w} months"),
        "n_open_complaints": ("未解决投诉数", "open complaints"),
        "store_log_customers": ("门店客户规模", "store size (log customers)"),
        "store_median_ticket": ("门店付费工单中位数", "store's median paid ticket"),
        "store_avg_wait_minutes": ("门店平均等待时间", "store's average wait"),
        "store_return_rate": ("门店年回厂率", "store's yearly return rate"),
        "share_visits_other_stores_{w}m": (
            "近{w}个月在其他门店进厂占比",
            "share of visits at sister stores in {w} months",
        ),
        "moved_store": ("转到集团其他门店", "moved to a sister store"),
        "months_since_last_complaint": ("距上次投诉月数", "months since the last complaint"),
        "max_complaint_severity_{w}m": ("最严重投诉等级", "worst complaint severity"),
    },
}


def t(key: str, lang: str = "zh", **kwargs: object) -> str:
    """Text ``key`` of :data:`TEXT` in ``lang``, its ``{placeholders}`` filled from ``kwargs``.

    A key the table lacks is a bug in the caller (``KeyError``), never a code name on a page;
    codes that are data (stages, departments, columns …) go through :func:`label`."""
    try:
        entry = TEXT[key]
    except KeyError:
        raise KeyError(f"no text {key!r} in cvm.i18n.TEXT") from None
    text = entry[lang if lang in LANGS else "en"]
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
