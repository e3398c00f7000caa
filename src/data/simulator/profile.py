"""The 17-field customer profile (contract.PROFILE_FIELDS) with realistic gaps.

Fields are drawn from the latent traits where a real store's record would reflect them
(family stage -> marital status, children, household size; income band), then blanked with a
per-field missing rate (about 10 % overall).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cvm.data.simulator.population import Traits

SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN = list(
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬建国志鹏宇浩然子轩梓涵欣怡思远俊杰"
)
PLACES = [
    ("江苏省", "南京市", ["玄武区", "秦淮区", "建邺区", "鼓楼区", "栖霞区", "江宁区"]),
    ("江苏省", "苏州市", ["姑苏区", "吴中区", "相城区", "工业园区"]),
    ("浙江省", "杭州市", ["西湖区", "拱墅区", "滨江区", "余杭区"]),
    ("安徽省", "马鞍山市", ["花山区", "雨山区", "博望区"]),
]
ROADS = list("中山建设人民解放和平新华长江文化胜利迎宾")
OCCUPATIONS = [
    "企业职员",
    "个体经营",
    "公务员",
    "教师",
    "医生",
    "工程师",
    "销售",
    "司机",
    "自由职业",
    "退休",
]
EDUCATION = ["高中及以下", "大专", "本科", "硕士及以上"]
HOBBIES = ["自驾游", "钓鱼", "摄影", "健身", "美食", "读书", "露营", "音乐", "跑步", "亲子活动"]
CHANNELS = np.array(["phone", "sms", "wechat", "app", "mail", "visit"])
MOBILE = [
    "138",
    "139",
    "137",
    "136",
    "135",
    "150",
    "151",
    "152",
    "158",
    "159",
    "186",
    "187",
    "188",
    "189",
    "133",
    "153",
    "177",
    "180",
    "181",
    "199",
]


def _pick(rng: np.random.Generator, options: list[str], n: int) -> pa.Array:
    return pa.array(np.array(options, dtype=object)[rng.integers(0, len(options), n)], pa.string())


def _digits(rng: np.random.Generator, n: int, width: int) -> pa.Array:
    nums = rng.integers(0, 10**width, n)
    return pc.utf8_lpad(pc.cast(pa.array(nums), pa.string()), width=width, padding="0")


def make_profile(
    rng: np.random.Generator, tr: Traits, p: dict[str, Any], end_year: int
) -> dict[str, pa.Array]:
    """Profile columns (pyarrow arrays) for every customer, with missing values."""
    n = tr.n
    u = rng.random((n, 4))
    name = pc.binary_join_element_wise(
        _pick(rng, SURNAMES, n),
        _pick(rng, GIVEN, n),
        pc.if_else(pa.array(u[:, 0] < 0.6), _pick(rng, GIVEN, n), pa.scalar("")),
        "",
    )
    phone = pc.binary_join_element_wise(_pick(rng, MOBILE, n), _digits(rng, n, 8), "")
    gender = np.where(u[:, 1] < 0.62, "M", "F")
    fam = tr.family
    base_age = np.array([28, 33, 36, 45, 60])[fam] + rng.normal(0, 5, n)
    birth_year = np.clip(np.round(end_year - base_age), 1940, end_year - 18).astype(np.int64)
    place = rng.choice(len(PLACES), n, p=[0.7, 0.15, 0.1, 0.05])
    province = np.array([pl[0] for pl in PLACES], dtype=object)[place]
    city = np.array([pl[1] for pl in PLACES], dtype=object)[place]
    district = np.array(
        [pl[2][int(x * len(pl[2]))] for pl in PLACES for x in np.linspace(0, 0.999, 8)],
        dtype=object,
    ).reshape(len(PLACES), 8)[place, rng.integers(0, 8, n)]
    address = pc.binary_join_element_wise(
        pa.array(city, pa.string()),
        pa.array(district, pa.string()),
        _pick(rng, ROADS, n),
        pa.scalar("路"),
        pc.cast(pa.array(rng.integers(1, 400, n)), pa.string()),
        pa.scalar("号"),
        "",
    )
    occupation = np.array(OCCUPATIONS, dtype=object)[
        np.where(tr.commercial, 7, np.where(fam == 4, 9, rng.integers(0, 9, n)))
    ]
    education = np.array(EDUCATION, dtype=object)[np.clip(tr.income + rng.integers(-1, 2, n), 0, 3)]
    marital = np.where(fam == 0, "single", np.where(u[:, 2] < 0.97, "married", "other"))
    kids_obs = np.where(u[:, 3] < 0.05, ~tr.kids, tr.kids)
    household = np.array([1, 2, 3, 4, 2])[fam] + (rng.random(n) < 0.3) * (fam >= 2)
    income = np.array(["low", "mid", "high"], dtype=object)[tr.income]
    wechat = pc.binary_join_element_wise(pa.scalar("wxid_"), _digits(rng, n, 10), "")
    email = pc.binary_join_element_wise(
        _digits(rng, n, 9), _pick(rng, ["@qq.com", "@163.com", "@126.com"], n), ""
    )
    pref = CHANNELS[rng.choice(6, n, p=[0.35, 0.15, 0.35, 0.08, 0.02, 0.05])]
    hobby = _pick(rng, HOBBIES, n)
    cols: dict[str, pa.Array] = {
        "name": name,
        "phone": phone,
        "gender": pa.array(gender, pa.string()),
        "birth_year": pa.array(birth_year, pa.int64()),
        "province": pa.array(province, pa.string()),
        "city": pa.array(city, pa.string()),
        "address": address,
        "occupation": pa.array(occupation, pa.string()),
        "education": pa.array(education, pa.string()),
        "marital_status": pa.array(marital, pa.string()),
        "has_children": pa.array(kids_obs, pa.bool_()),
        "household_size": pa.array(household.astype(np.int64), pa.int64()),
        "income_band": pa.array(income, pa.string()),
        "wechat_id": wechat,
        "email": email,
        "preferred_channel": pa.array(pref, pa.string()),
        "hobby": hobby,
    }
    miss = p["profile"]["missing"]
    for field, arr in cols.items():
        mask = rng.random(n) < float(miss[field])
        cols[field] = pc.if_else(pa.array(mask), pa.nulls(n, arr.type), arr)
    return cols
