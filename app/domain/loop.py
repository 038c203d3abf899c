"""督办 levels, 协调裁定 rulings and 回访 results: the values events carry, with their Chinese labels.

The services (app.services.cases), the commands (app.commands.builtin) and the database's
derive (migration 0015) take the allowed values from here.
"""

from __future__ import annotations

#: 督办 levels (payload ``urge_level``); a case's ``urge_level`` is the highest of its urges, 0 if none.
URGE_LEVELS: dict[int, str] = {1: "一般督办", 2: "重点督办", 3: "挂牌督办"}
#: 协调裁定 (payload ``ruling``): the disputing department stays responsible, another one is, or a
#: designated department does the remedial work (代整改) on behalf of the responsible one.
RULING_LABELS: dict[str, str] = {"upheld": "维持原责任部门", "reassigned": "改由其他部门负责",
                                 "remedial": "指定部门代整改"}
RULINGS: tuple[str, ...] = tuple(RULING_LABELS)
#: 回访 results (payload ``result``).
CALLBACK_LABELS: dict[str, str] = {"satisfied": "满意", "basically_satisfied": "基本满意",
                                   "unsatisfied": "不满意", "unreachable": "未联系上"}
CALLBACK_RESULTS: tuple[str, ...] = tuple(CALLBACK_LABELS)
#: The results that count as satisfied in the evaluation (numerator of the satisfied share).
SATISFIED_RESULTS: frozenset[str] = frozenset({"satisfied", "basically_satisfied"})
#: The results of a call-back that reached the reporter (denominator of the satisfied share).
REACHED_RESULTS: frozenset[str] = frozenset(CALLBACK_RESULTS) - {"unreachable"}


__all__ = ["CALLBACK_LABELS", "CALLBACK_RESULTS", "REACHED_RESULTS", "RULINGS", "RULING_LABELS",
           "SATISFIED_RESULTS", "URGE_LEVELS"]
