"""The demo city's organisation: departments, who owns which component, routing, users."""

from __future__ import annotations

import random
from dataclasses import dataclass

from data.democity import names
from data.democity.geography import City
from data.democity.params import DISTRICT_CODE, ScaleSpec

_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def credit_code(prefix: str, admin: str, body: str) -> str:
    """An 18-char unified social credit code (GB 32100) with valid check characters.

    ``prefix`` is the registration authority + organisation type ("11" 机关, "12" 事业单位,
    "91" 企业), ``body`` the 8-digit organisation code body (GB 11714).
    """
    s = sum(int(c) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True))
    c9 = 11 - s % 11
    org = body + ("0" if c9 == 11 else "Y" if c9 == 10 else str(c9))  # 'X' is not in the USCC set
    head = prefix + admin + org
    return head + uscc_check(head)


def uscc_check(first17: str) -> str:
    """The 18th (check) character of a unified social credit code."""
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_CHARS[(31 - total % 31) % 31]


@dataclass
class Dept:
    """A department before insertion; ``key`` is how the generator refers to it."""

    key: str
    code: str
    name: str
    kind: str
    credit: str
    parent: str | None = None
    street: int | None = None  # index of the street it serves (street offices, contractors)
    phone: str | None = None


# (key, name, kind, credit prefix)
_BUREAUS = [
    ("CGJ", "区城市管理局", "bureau", "11"),
    ("SZ", "区市政公用局", "bureau", "11"),
    ("YL", "区园林和绿化管理局", "bureau", "11"),
    ("HW", "区环境卫生管理处", "bureau", "12"),
    ("JT", "区交通运输局", "bureau", "11"),
    ("ZJ", "区住房和城乡建设局", "bureau", "11"),
    ("SCJG", "区市场监督管理局", "bureau", "11"),
    ("JJ", "公安姑苏分局交警大队", "bureau", "11"),
    ("STHJ", "区生态环境局", "bureau", "11"),
    ("SW", "区水务局", "bureau", "11"),
    ("WL", "区文化体育和旅游局", "bureau", "11"),
    ("FG", "区房产管理局", "bureau", "11"),
    ("XF", "区消防救援大队", "bureau", "11"),
    ("LDS", "区路灯管理所", "utility", "12"),
    ("GD", "国网苏州供电公司姑苏供电服务中心", "utility", "91"),
    ("ZLS", "苏州市自来水有限公司", "utility", "91"),
    ("RQ", "苏州港华燃气有限公司", "utility", "91"),
    ("DX", "中国电信苏州分公司", "utility", "91"),
    ("YD", "中国移动苏州分公司", "utility", "91"),
    ("LT", "中国联通苏州分公司", "utility", "91"),
    ("GDW", "江苏有线苏州分公司", "utility", "91"),
    ("PS", "苏州市排水有限公司", "utility", "91"),
    ("GJ", "苏州市公共交通有限公司", "utility", "91"),
    ("SZYH", "苏州市政养护工程有限公司", "company", "91"),
    ("JTSS", "苏州交通设施养护有限公司", "company", "91"),
    ("ZX", "区数字化城市管理监督指挥中心", "centre", "12"),
]
_PARENT = {"LDS": "SZ", "SZYH": "SZ", "JTSS": "JT", "PS": "SW"}


def build_departments(city: City, rng: random.Random) -> list[Dept]:
    """~40 departments at district scale: bureaus, utilities, street offices, contractors."""
    out: list[Dept] = []
    serial = 10_000_000

    def add(key, name, kind, prefix, parent=None, street=None):
        nonlocal serial
        serial += rng.randint(1_000, 90_000)
        admin = DISTRICT_CODE if prefix != "91" else DISTRICT_CODE[:4] + "00"
        phone = f"0512-6{rng.randint(0, 9999999):07d}"
        out.append(Dept(key, key, name, kind, credit_code(prefix, admin, f"{serial:08d}"), parent, street, phone))

    for key, name, kind, prefix in _BUREAUS:
        add(key, name, kind, prefix, _PARENT.get(key))
    hw_firms = ["洁城", "清源", "净美", "绿洲", "蓝天", "恒洁", "康洁", "绿源", "美境", "佳洁"]
    green_firms = ["绿苑", "吴园", "园韵", "青林", "翠景", "沧浪绿化", "苏绿", "景林", "馨园", "园丰"]
    for s, street in enumerate(city.streets):
        n = f"{s + 1:03d}"
        add(f"JD{n}", street.name + "办事处", "street_office", "11", None, s)
        add(f"ZF{n}", street.name[:-2] + "城管执法中队", "bureau", "11", "CGJ", s)
        add(f"HWQ{n}", f"苏州{hw_firms[s % len(hw_firms)]}环境服务有限公司" + ("" if s < 10 else str(s)),
            "company", "91", "HW", s)
        add(f"LHQ{n}", f"苏州{green_firms[s % len(green_firms)]}园林工程有限公司" + ("" if s < 10 else str(s)),
            "company", "91", "YL", s)
    return out


# Component category -> (主管, 权属, 养护) keys; "TEL" picks one of the three operators,
# "*HW"/"*LH" the street's sanitation/greening contractor.
_OWNERS_BY_CODE = {
    "01001": ("SW", "ZLS", "ZLS"), "01002": ("SW", "PS", "PS"), "01003": ("SW", "PS", "PS"),
    "01004": ("SW", "PS", "PS"), "01005": ("SZ", "GD", "GD"), "01006": ("SZ", "LDS", "LDS"),
    "01007": ("SZ", "TEL", "TEL"), "01008": ("SZ", "GDW", "GDW"), "01009": ("SZ", "TEL", "TEL"),
    "01011": ("SZ", "RQ", "RQ"), "01012": ("JJ", "JJ", "JJ"), "01013": ("XF", "ZLS", "ZLS"),
    "01014": ("YL", "YL", "*LH"), "01015": ("JJ", "JJ", "JTSS"), "01017": ("SZ", "GD", "GD"),
    "01018": ("FG", "FG", "*HW"), "01020": ("JT", "GJ", "GJ"), "01027": ("SZ", "TEL", "TEL"),
    "01028": ("SZ", "GD", "GD"), "01029": ("SZ", "GD", "GD"), "01030": ("SZ", "GD", "GD"),
    "01031": ("SZ", "TEL", "TEL"), "01032": ("JT", "GJ", "GJ"), "01037": ("SZ", "LDS", "LDS"),
    "01038": ("SZ", "LDS", "LDS"), "01039": ("SZ", "LDS", "LDS"), "01048": ("SZ", "GD", "GD"),
    "01049": ("SZ", "RQ", "RQ"), "01050": ("JJ", "JJ", "JJ"), "01054": ("SZ", "GD", "GD"),
    "01060": ("SZ", "LDS", "LDS"), "01062": ("SZ", "TEL", "TEL"), "01072": ("SW", "PS", "PS"),
    "01073": ("SW", "PS", "PS"), "02004": ("JT", "GJ", "GJ"), "02014": ("JJ", "JJ", "JTSS"),
    "02015": ("JJ", "JJ", "JTSS"), "02016": ("JJ", "JJ", "JJ"), "02039": ("JJ", "JJ", "JJ"),
    "03001": ("HW", "HW", "*HW"), "03002": ("HW", "HW", "*HW"), "03003": ("HW", "HW", "*HW"),
    "03004": ("HW", "HW", "*HW"), "03005": ("HW", "HW", "*HW"), "03006": ("CGJ", "CGJ", "CGJ"),
    "03007": ("CGJ", "CGJ", "CGJ"), "03009": ("STHJ", "STHJ", "STHJ"), "03010": ("STHJ", "STHJ", "STHJ"),
    "03014": ("HW", "HW", "*HW"), "03015": ("HW", "HW", "*HW"), "03016": ("HW", "HW", "*HW"),
    "05009": ("WL", "WL", "WL"), "05002": ("FG", "FG", "FG"),
}
_OWNERS_BY_MAJOR = {
    "01": ("SZ", "SZ", "SZYH"), "02": ("JT", "JT", "JTSS"), "03": ("CGJ", "CGJ", "*HW"),
    "04": ("YL", "YL", "*LH"), "05": ("ZJ", "ZJ", "ZJ"),
}
TELECOMS = ("DX", "YD", "LT")


def component_departments(code: str, street: int, rng: random.Random) -> tuple[str, str, str]:
    """(主管, 权属, 养护) department keys for a component of category ``code`` in ``street``."""
    keys = _OWNERS_BY_CODE.get(code) or _OWNERS_BY_MAJOR[code[:2]]
    tel = rng.choice(TELECOMS)
    n = f"{street + 1:03d}"
    return tuple(tel if k == "TEL" else f"HWQ{n}" if k == "*HW" else f"LHQ{n}" if k == "*LH" else k
                 for k in keys)  # type: ignore[return-value]


# Event categories routed by the street (属地管理): key template per code or major.
_EVENT_ROUTE_BY_CODE = {
    "06010": "HWQ", "06011": "HWQ", "06012": "HWQ", "06014": "HWQ", "06020": "HWQ", "06037": "HWQ",
    "06041": "HWQ", "06042": "HWQ", "06017": "LHQ", "06018": "LHQ", "06021": "LHQ", "06022": "YL",
    "06045": "LHQ", "06013": "SZ", "06016": "JJ", "06027": "STHJ", "06028": "STHJ", "06030": "SW",
    "06025": "SW", "06026": "SW", "06023": "SW", "06001": "ZF", "06039": "ZF", "07001": "ZF",
    "07002": "ZF", "07003": "ZF", "07006": "ZF", "09009": "JJ", "09012": "XF", "09015": "SCJG",
    "09018": "JJ", "09014": "JJ", "09020": "SCJG", "08003": "SZ", "08011": "ZF", "08012": "ZF",
    "10001": "SZ", "10002": "SZ",
}
_EVENT_ROUTE_BY_MAJOR = {"06": "JD", "07": "JD", "08": "ZJ", "09": "JD", "10": "CGJ"}
_STREET_KEYS = ("JD", "ZF", "HWQ", "LHQ")


def event_department(code: str, street: int) -> str:
    """Department key that handles event category ``code`` in ``street``."""
    key = _EVENT_ROUTE_BY_CODE.get(code) or _EVENT_ROUTE_BY_MAJOR.get(code[:2], "CGJ")
    return f"{key}{street + 1:03d}" if key in _STREET_KEYS else key


def routing_plan(n_streets: int, event_codes: list[str], component_codes: list[str]):
    """Routing rules as (category (kind, code) | None, major | None, kind | None, street | None, dept key, priority)."""
    rules = []
    for major in ("06", "07", "08", "09", "10"):
        key = _EVENT_ROUTE_BY_MAJOR[major]
        if key in _STREET_KEYS:
            for s in range(n_streets):
                rules.append((None, major, "event", s, f"{key}{s + 1:03d}", 50))
        else:
            rules.append((None, major, "event", None, key, 90))
    for code in event_codes:
        key = _EVENT_ROUTE_BY_CODE.get(code)
        if key is None:
            continue
        if key in _STREET_KEYS:
            for s in range(n_streets):
                rules.append((("event", code), None, None, s, f"{key}{s + 1:03d}", 10))
        else:
            rules.append((("event", code), None, None, None, key, 20))
    # Component problems go to the owner by default (the router may prefer the component's own owner).
    for code in component_codes:
        owner = (_OWNERS_BY_CODE.get(code) or _OWNERS_BY_MAJOR[code[:2]])[1]
        if owner == "TEL":
            owner = "DX"
        if owner.startswith("*"):
            for s in range(n_streets):
                rules.append((("event", code), None, "component", s,
                              f"{'HWQ' if owner == '*HW' else 'LHQ'}{s + 1:03d}", 30))
        else:
            rules.append((("event", code), None, "component", None, owner, 40))
    return rules


def default_department(kind: str, code: str) -> str:
    """categories.default_department_id: the authority for components, street 1's handler for events."""
    if kind == "component" or code[:2] in ("01", "02", "03", "04", "05"):
        return (_OWNERS_BY_CODE.get(code) or _OWNERS_BY_MAJOR[code[:2]])[0]
    key = _EVENT_ROUTE_BY_CODE.get(code) or _EVENT_ROUTE_BY_MAJOR.get(code[:2], "CGJ")
    # A district-wide default cannot be one street's office: fall back to the bureau above it.
    return {"JD": "CGJ", "ZF": "CGJ", "HWQ": "HW", "LHQ": "YL"}.get(key, key)


@dataclass
class Person:
    """A user before insertion."""

    username: str
    display: str
    role: str
    dept_key: str | None
    phone: str


def build_users(spec: ScaleSpec, depts: list[Dept], rng: random.Random) -> list[Person]:
    """Supervisors, desk staff, department operators, leaders, analysts and an admin."""
    desk = {"tiny": 1, "district": 1, "city": 4}[spec.name]
    plan = [("acceptor", "sly", 6 * desk), ("shift_leader", "zbz", 4 * desk), ("dispatcher", "pqy", 5 * desk),
            ("leader", "ld", 3), ("analyst", "fx", 2)]
    if spec.name == "tiny":
        plan = [("acceptor", "sly", 2), ("shift_leader", "zbz", 2), ("dispatcher", "pqy", 2),
                ("leader", "ld", 1), ("analyst", "fx", 1)]
    out: list[Person] = []
    used: set[str] = set()

    def phone() -> str:
        return f"1{rng.choice('35789')}{rng.randint(0, 999999999):09d}"

    def display() -> str:
        while True:
            n = names.person(rng)
            if n not in used:
                used.add(n)
                return n

    for i in range(spec.supervisors):
        out.append(Person(f"jdy{i + 1:03d}", display(), "supervisor", "ZX", phone()))
    for role, stem, count in plan:
        for i in range(count):
            out.append(Person(f"{stem}{i + 1:02d}", display(), role, "ZX", phone()))
    out.append(Person("admin", "系统管理员", "admin", "ZX", phone()))
    for d in depts:
        if d.kind == "centre":
            continue
        for i in range(2 if d.kind in ("street_office", "bureau") else 1):
            out.append(Person(f"{d.code.lower()}_{i + 1}", display(), "department", d.key, phone()))
    return out
