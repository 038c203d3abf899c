"""Name pools of the demo city: streets, communities, roads, people (fictitious, Suzhou flavour)."""

from __future__ import annotations

import random

STREET_NAMES = [
    "平江", "沧浪", "双塔", "金阊", "虎丘", "吴门桥", "城北", "苏锦", "白洋湾", "留园",
    "胥江", "盘溪", "娄江", "葑谊", "齐溪", "阊西", "桐泾", "彩香", "三香", "南环",
]

COMMUNITY_NAMES = [
    "凤凰", "十全", "干将", "临顿", "仓街", "南园", "沧浪亭", "三元", "吉庆", "锦帆",
    "官太尉", "悬桥", "萧家", "大新", "迎春", "采莲", "侍其", "带城", "金狮", "乌鹊",
    "相门", "葑门", "盘门", "胥门", "齐门", "娄门", "阊门", "桃花坞", "山塘", "菉葭",
    "醋库", "史家", "混堂", "马医科", "王洗马", "祥符", "东美", "宫巷", "观前", "玄妙",
    "北寺", "报恩", "西园", "留园", "枫桥", "寒山", "虎阜", "白莲", "石湖", "横塘",
    "彩云", "桂花", "梅巷", "竹辉", "菱塘", "荷花", "桐芳", "杏坛", "柳溪", "松鹤",
    "双桥", "新桥", "水仙", "翠园", "春申", "文庙", "书院", "学士", "养育", "景德",
    "道前", "府前", "清洲", "北园", "娄江", "城湾", "运河", "吴趋", "专诸", "泰伯",
    "仁济", "平桥", "西津", "东吴", "青旸", "南浩", "蔡汇", "虹桥", "三塘", "彩香",
]

# Stems for road names; a road is stem + suffix (路 / 街 / 巷 / 弄).
ROAD_STEMS = [
    "人民", "干将", "十全", "凤凰", "临顿", "平江", "道前", "景德", "养育", "学士",
    "书院", "大儒", "钮家", "庆元", "丁香", "南园", "沧浪", "三元", "吉庆", "锦帆",
    "官太尉", "富郎中", "悬桥", "萧家", "中张家", "大新", "迎春", "采莲", "侍其", "盛家带",
    "带城", "金狮", "乌鹊", "相门", "葑门", "盘门", "胥门", "齐门", "娄门", "阊门",
    "桃花坞", "西北", "东北", "石路", "山塘", "菉葭", "醋库", "史家", "混堂", "马医科",
    "王洗马", "祥符寺", "西支家", "东美", "宫巷", "观前", "竹辉", "十梓", "白塔", "东中市",
    "西中市", "北园", "仓街", "广济", "阊胥", "莫邪", "友新", "新市", "三香", "桐泾",
    "苏锦", "平门", "虎丘", "枫桥", "留园", "彩香", "南环", "北环", "西环", "东环",
    "吴趋", "专诸", "泰让", "申衙", "护龙", "因果", "颜家", "天官", "甫桥", "柳枝",
    "南石子", "大石头", "装驾桥", "嘉余坊", "泗井", "卫前", "范庄前", "滚绣坊", "瓣莲", "刘家浜",
]

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红文斌建国志宏海燕晓云峰雪梅婷浩宇"

_PINYIN = {
    "王": "wang", "李": "li", "张": "zhang", "刘": "liu", "陈": "chen", "杨": "yang", "黄": "huang",
    "赵": "zhao", "吴": "wu", "周": "zhou", "徐": "xu", "孙": "sun", "马": "ma", "朱": "zhu",
    "胡": "hu", "郭": "guo", "何": "he", "高": "gao", "林": "lin", "罗": "luo", "郑": "zheng",
    "梁": "liang", "谢": "xie", "宋": "song", "唐": "tang", "许": "xu", "韩": "han", "冯": "feng",
    "邓": "deng", "曹": "cao", "彭": "peng", "曾": "zeng", "肖": "xiao", "田": "tian", "董": "dong",
    "袁": "yuan", "潘": "pan", "蒋": "jiang", "蔡": "cai", "余": "yu", "杜": "du", "叶": "ye",
    "程": "cheng", "苏": "su", "魏": "wei", "吕": "lv", "丁": "ding", "任": "ren", "沈": "shen",
    "姚": "yao", "卢": "lu",
}


def unique_names(stems: list[str], count: int, suffix: str, rng: random.Random,
                 used: set[str] | None = None) -> list[str]:
    """``count`` distinct names stem+suffix; when stems run out, prefix 东/西/南/北/新."""
    used = set() if used is None else used
    pool = list(stems)
    rng.shuffle(pool)
    out: list[str] = []
    prefixes = ["", "东", "西", "南", "北", "新", "中", "上", "下", "前", "后"]
    for prefix in prefixes:
        for stem in pool:
            if len(out) == count:
                return out
            name = f"{prefix}{stem}{suffix}"
            if name not in used:
                used.add(name)
                out.append(name)
    n = 1
    while len(out) < count:  # only for absurd scales
        name = f"{pool[n % len(pool)]}{n}{suffix}"
        if name not in used:
            used.add(name)
            out.append(name)
        n += 1
    return out


def person(rng: random.Random) -> str:
    """A Chinese display name (surname + one or two given characters)."""
    s = rng.choice(SURNAMES)
    g = "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
    return s + g


def surname_pinyin(name: str) -> str:
    """ASCII stem for a username from the surname."""
    return _PINYIN.get(name[0], "user")
