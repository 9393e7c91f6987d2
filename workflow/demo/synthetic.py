"""A synthetic, deterministic province of Henan enterprises for demos and benchmarks.

Rows are plain ``dict[str, str]`` with the keys of ``HEADERS_ZH``. Credit codes are
valid (GB 11714 organisation check and GB 32100 check) and unique within one call
to ``generate``; the grade mix follows public grading figures (a few percent A/B; mostly 未评级/C/D). Industries
come from the shipped calendar's vocabulary (sectors outside it are 其他 or 化工 with a 行业细分),
grades lie on the industry's scale, every rated enterprise has a 评级文件文号 and every ULE
已公示 its 公示文号 and date, so the CSV imports under the master-data rules.
"""

from __future__ import annotations

import csv
import os
import random
import tomllib
from bisect import bisect
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import accumulate

from workflow.domain import industries, plan
from workflow.domain.creditcode import ALPHABET, make

# name, region code, relative weight, counties as "name suffix" pairs: the county's
# region code is the city code's first four digits + suffix (济源 uses 419001 throughout).
_CITY_TABLE: tuple[tuple[str, str, int, str], ...] = (
    ("郑州市", "410100", 14, ("中原区 02 二七区 03 管城回族区 04 金水区 05 惠济区 08 中牟县 22 "
     "巩义市 81 荥阳市 82 新密市 83 新郑市 84 登封市 85")),
    ("开封市", "410200", 5, "龙亭区 02 鼓楼区 04 祥符区 12 杞县 21 通许县 22 尉氏县 23 兰考县 25"),
    ("洛阳市", "410300", 9, ("涧西区 05 偃师区 07 孟津区 08 洛龙区 11 新安县 23 栾川县 24 "
     "宜阳县 27 伊川县 29")),
    ("平顶山市", "410400", 6, ("新华区 02 卫东区 03 湛河区 11 宝丰县 21 叶县 22 郏县 25 "
     "舞钢市 81 汝州市 82")),
    ("安阳市", "410500", 9, ("文峰区 02 北关区 03 殷都区 05 龙安区 06 安阳县 22 汤阴县 23 "
     "滑县 26 林州市 81")),
    ("鹤壁市", "410600", 4, "鹤山区 02 山城区 03 淇滨区 11 浚县 21 淇县 22"),
    ("新乡市", "410700", 9, ("红旗区 02 牧野区 11 新乡县 21 获嘉县 24 原阳县 25 卫辉市 81 "
     "辉县市 82 长垣市 83")),
    ("焦作市", "410800", 6, ("解放区 02 中站区 03 马村区 04 修武县 21 博爱县 22 武陟县 23 "
     "沁阳市 82 孟州市 83")),
    ("濮阳市", "410900", 5, "华龙区 02 清丰县 22 南乐县 23 范县 26 台前县 27 濮阳县 28"),
    ("许昌市", "411000", 6, "魏都区 02 建安区 03 鄢陵县 24 襄城县 25 禹州市 81 长葛市 82"),
    ("漯河市", "411100", 3, "源汇区 02 郾城区 03 召陵区 04 舞阳县 21 临颍县 22"),
    ("三门峡市", "411200", 4, "湖滨区 02 陕州区 03 渑池县 21 卢氏县 24 义马市 81 灵宝市 82"),
    ("南阳市", "411300", 8, ("宛城区 02 卧龙区 03 方城县 22 西峡县 23 镇平县 24 淅川县 26 "
     "唐河县 28 邓州市 81")),
    ("商丘市", "411400", 6, "梁园区 02 睢阳区 03 民权县 21 柘城县 24 虞城县 25 夏邑县 26 永城市 81"),
    ("信阳市", "411500", 5, "浉河区 02 平桥区 03 罗山县 21 光山县 22 固始县 25 潢川县 26 息县 28"),
    ("周口市", "411600", 6, ("川汇区 02 淮阳区 03 扶沟县 21 西华县 22 商水县 23 沈丘县 24 "
     "鹿邑县 28 项城市 81")),
    ("驻马店市", "411700", 6, ("驿城区 02 西平县 21 上蔡县 22 平舆县 23 确山县 25 泌阳县 26 "
     "汝南县 27 遂平县 28")),
    ("济源市", "419001", 2, "济源示范区 01 克井镇 01 五龙口镇 01 轵城镇 01 承留镇 01"),
    ("郑州航空港经济综合实验区", "410173", 1, "航空港区 73"),
)

CITIES: tuple[str, ...] = tuple(row[0] for row in _CITY_TABLE)
REGION_CODES: dict[str, str] = {row[0]: row[1] for row in _CITY_TABLE}
CITY_WEIGHTS: dict[str, int] = {row[0]: row[2] for row in _CITY_TABLE}
COUNTY_CODES: dict[str, dict[str, str]] = {
    city: {name: code[:4] + sfx for name, sfx in zip(pairs.split()[::2], pairs.split()[1::2], strict=True)}
    for city, code, _, pairs in _CITY_TABLE
}
COUNTIES: dict[str, tuple[str, ...]] = {c: tuple(m) for c, m in COUNTY_CODES.items()}

# The industry vocabulary, the scales and the ULE industries come from the shipped calendar.
_VOCABULARY = industries.parse(tomllib.loads(plan.default_text())["industries"])
OTHER = "其他"
INDUSTRIES: tuple[str, ...] = tuple(_VOCABULARY.industries)
KEY_INDUSTRIES: tuple[str, ...] = tuple(i for i in INDUSTRIES if i != OTHER)
LEADING_SCALE_INDUSTRIES: frozenset[str] = frozenset(
    i.name for i in _VOCABULARY.industries.values() if industries.LEADING in i.scales)
ULE_INDUSTRIES: frozenset[str] = _VOCABULARY.ule()
ULE_STATUSES: tuple[str, ...] = ("not_started", "in_progress", "completed", "publicized")

# sector: (industry, relative weight, words used in company names). A sector that is not a key
# industry is written as its industry with the sector as 行业细分 (陶瓷 → 其他 / 陶瓷).
_SECTOR_TABLE: dict[str, tuple[str, int, tuple[str, ...]]] = {
    "钢铁": ("钢铁", 2, ("钢铁", "特钢", "钢业")), "水泥": ("水泥", 3, ("水泥", "建材")),
    "焦化": ("焦化", 2, ("焦化", "煤化")), "铸造": ("铸造", 12, ("铸造", "铸业", "机械铸造")),
    "耐材": ("耐材", 9, ("耐材", "耐火材料", "高温材料")), "玻璃": ("玻璃", 3, ("玻璃", "玻璃制品")),
    "石灰窑": ("石灰窑", 4, ("钙业", "石灰")), "再生金属": ("再生金属", 4, ("再生资源", "金属回收", "再生铝业")),
    "化工": ("化工", 12, ("化工", "精细化工", "化学")),
    "工业涂装": ("工业涂装", 14, ("机械", "钢结构", "汽车部件")),
    "包装印刷": ("包装印刷", 10, ("包装", "印务", "彩印包装")),
    "磨料磨具": ("磨料磨具", 6, ("磨料磨具", "磨料", "超硬材料")),
    "砖瓦窑": (OTHER, 5, ("新型建材", "砖业")), "陶瓷": (OTHER, 3, ("陶瓷", "瓷业")),
    "家具制造": (OTHER, 5, ("家具", "家居")), "制药": ("化工", 3, ("药业", "制药")),
    "农药": ("化工", 2, ("农化", "生物科技")),
}
SECTORS: tuple[str, ...] = tuple(_SECTOR_TABLE)
OTHER_SECTORS: dict[str, str] = {k: v[0] for k, v in _SECTOR_TABLE.items() if k != v[0]}  # 行业细分 → 行业
_LEADING_SECTORS = frozenset({"制药"})  # rated on the 引领性 scale; the rest of 化工 on A–D
_AD_GRADES: tuple[tuple[str, float], ...] = (
    ("未评级", 33), ("D", 24), ("C", 30.5), ("B-", 4.5), ("B", 5.5), ("A", 2.5),
)
_LEADING_GRADES: tuple[tuple[str, float], ...] = (("未评级", 27), ("非引领性", 70), ("引领性", 3))
_ULE_WEIGHTS = (10, 35, 35, 20)
_SUFFIXES = (("有限公司", 70), ("有限责任公司", 15), ("股份有限公司", 7), ("集团有限公司", 8))
_TRADE_FIRST = "恒华鑫宏金永瑞隆盛泰兴丰昌润博中天新佳嘉和信远立明德正晨东豫宇凯万广腾龙汇诚力安"
_TRADE_SECOND = "达源通顺基业发祥利光辉威创锦阳峰鼎程茂旺益科盈海帆林翔宝振康美辰升荣晟洋森"
_LIVELIHOOD_SHARE = 0.03
_ORG_SPACE = 31**6  # six counter-derived characters after "MA"
_GB11714_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_GB11714_CHECK = "0X987654321"  # indexed by the weighted sum mod 11

HEADERS_ZH: dict[str, str] = {
    "code": "统一社会信用代码", "name": "企业名称", "city": "所属城市", "county": "区县",
    "industry": "行业", "industry_detail": "行业细分", "grade": "现绩效等级", "rating_doc": "评级文件文号",
    "ule": "超低排放", "ule_ref": "超低排放公示文号", "ule_date": "超低排放公示日期", "livelihood": "民生保障",
}
FIELDS: tuple[str, ...] = tuple(HEADERS_ZH)


def organisation_code(body8: str) -> str:
    """``body8`` plus its GB 11714 check character (0-9 or X)."""
    total = sum(int(ch, 36) * w for ch, w in zip(body8, _GB11714_WEIGHTS, strict=True))
    return body8 + _GB11714_CHECK[total % 11]


def _pair_tables() -> list[list[tuple[str, int]]]:
    """For body positions 3-4, 5-6, 7-8: every 2-character pair and its weighted sum."""
    w = _GB11714_WEIGHTS
    return [
        [(a + b, int(a, 36) * w[p] + int(b, 36) * w[p + 1]) for a in ALPHABET for b in ALPHABET]
        for p in (2, 4, 6)
    ]


def _cum(weights: Iterable[float]) -> list[float]:
    return list(accumulate(weights))


def _places(city: str, county: str) -> tuple[str, ...]:
    """Name prefixes an enterprise in ``county`` might use."""
    short = "郑州航空港" if city == "郑州航空港经济综合实验区" else city.removesuffix("市")
    own = (county,) if county.endswith(("市", "县")) else ()
    return (short, short, "河南", *own, *own)


def generate(n: int, seed: int = 2024, cities: Sequence[str] = CITIES) -> Iterator[dict[str, str]]:
    """Stream ``n`` synthetic enterprises, the same rows for the same arguments.

    Arguments are checked at once; rows are built lazily, in constant memory.
    """
    if not 0 <= n <= _ORG_SPACE:
        raise ValueError(f"n must be between 0 and {_ORG_SPACE}, got {n}")
    unknown = [c for c in cities if c not in REGION_CODES]
    if unknown or not cities:
        raise ValueError(f"unknown or no cities: {unknown} (known: {', '.join(CITIES)})")
    return _rows(n, seed, list(cities))


def _rows(n: int, seed: int, city_list: list[str]) -> Iterator[dict[str, str]]:
    rng = random.Random(seed)
    rand = rng.random
    # Organisation code "MA" + six characters from an affine permutation of the
    # counter modulo 31**6: distinct counters give distinct codes, the seed shuffles them.
    step = rng.randrange(1, _ORG_SPACE)
    while step % 31 == 0:
        step = rng.randrange(1, _ORG_SPACE)
    offset = rng.randrange(_ORG_SPACE)
    pairs1, pairs2, pairs3 = _pair_tables()
    ma_sum = int("M", 36) * _GB11714_WEIGHTS[0] + int("A", 36) * _GB11714_WEIGHTS[1]

    city_cum = _cum(CITY_WEIGHTS[c] for c in city_list)
    counties = {c: [(k, "91" + v + "MA", _places(c, k)) for k, v in COUNTY_CODES[c].items()]
                for c in city_list}
    sector_cum = _cum(_SECTOR_TABLE[k][1] for k in SECTORS)
    ad_names, ad_cum = [g for g, _ in _AD_GRADES], _cum(w for _, w in _AD_GRADES)
    lead_names, lead_cum = [g for g, _ in _LEADING_GRADES], _cum(w for _, w in _LEADING_GRADES)
    ule_cum = _cum(_ULE_WEIGHTS)
    suffix_names, suffix_cum = [s for s, _ in _SUFFIXES], _cum(w for _, w in _SUFFIXES)
    first, second = _TRADE_FIRST, _TRADE_SECOND

    for i in range(n):
        city = city_list[bisect(city_cum, rand() * city_cum[-1])]
        options = counties[city]
        county, prefix, places = options[int(rand() * len(options))]
        sector = SECTORS[bisect(sector_cum, rand() * sector_cum[-1])]
        industry, _, name_words = _SECTOR_TABLE[sector]
        if sector in _LEADING_SECTORS:
            grade = lead_names[bisect(lead_cum, rand() * lead_cum[-1])]
        else:
            grade = ad_names[bisect(ad_cum, rand() * ad_cum[-1])]
        ule = ""
        if industry in ULE_INDUSTRIES:  # an A-grade plant has finished its ULE retrofit
            ule = ULE_STATUSES[bisect(ule_cum, rand() * ule_cum[-1])]
            if grade == "A" and ule in ("not_started", "in_progress"):
                ule = "publicized"
        rating_doc = ule_ref = ule_date = ""
        if grade != "未评级":  # the rating batches of 2021–2023
            rating_doc = f"豫环绩效〔{2021 + int(rand() * 3)}〕{1 + int(rand() * 180)}号"
        if ule == "publicized":
            year, day = 2022 + int(rand() * 2), 1 + int(rand() * 28)
            ule_ref = f"豫环超低公示〔{year}〕{1 + int(rand() * 60)}号"
            ule_date = f"{year}-{1 + int(rand() * 12):02d}-{day:02d}"
        x = (step * i + offset) % _ORG_SPACE
        (s1, v1), (s2, v2), (s3, v3) = pairs1[x // 961**2], pairs2[x // 961 % 961], pairs3[x % 961]
        check = _GB11714_CHECK[(ma_sum + v1 + v2 + v3) % 11]
        name = (
            places[int(rand() * len(places))]
            + first[int(rand() * len(first))]
            + second[int(rand() * len(second))]
            + name_words[int(rand() * len(name_words))]
            + suffix_names[bisect(suffix_cum, rand() * suffix_cum[-1])]
        )
        yield {
            "code": make(prefix + s1 + s2 + s3 + check),
            "name": name,
            "city": city,
            "county": county,
            "industry": industry,
            "industry_detail": "" if sector == industry else sector,
            "grade": grade,
            "rating_doc": rating_doc,
            "ule": ule,
            "ule_ref": ule_ref,
            "ule_date": ule_date,
            "livelihood": "1" if rand() < _LIVELIHOOD_SHARE else "0",
        }


def write_csv(
    path: str | os.PathLike[str], rows: Iterable[Mapping[str, str]], *, chinese_headers: bool = True
) -> int:
    """Stream ``rows`` to ``path`` as UTF-8 with BOM (opens in Excel); return the row count."""
    count = 0
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([HEADERS_ZH[f] for f in FIELDS] if chinese_headers else FIELDS)
        for row in rows:
            writer.writerow([row[f] for f in FIELDS])
            count += 1
    return count
