"""What an appended event derives beyond the workflow table, in one place for both paths.

The Python services apply these on SpatiaLite (app.services.replies, app.services.dispatch);
migration 0006 builds the PostgreSQL trigger that derives the same from them (the reply texts
are copied into the table ``reply_templates``).
"""

from __future__ import annotations

from app.domain.definitions import Action, Source

#: The longest extension (延期) a request may ask for or an approval grant, in minutes.
MAX_EXTENSION_MINUTES = 60 * 24 * 365

#: Sources whose reporter expects a reply from the centre.
REPLY_SOURCES = frozenset({Source.PUBLIC, Source.HOTLINE})
#: The actions after which a reply is generated automatically, and what it says (placeholders
#: {when} {category} {number} {reason} {original}). The one place the texts live: migration 0006
#: copies them into the PostgreSQL table ``reply_templates``, from which the database writes them.
TEMPLATES = {
    Action.FILE: ("您好！您{when}反映的「{category}」问题（案卷号 {number}）已立案，我们将尽快派遣责任部门处置，"
                  "处置结果将再次告知您。感谢您对城市管理的支持！"),
    Action.CLOSE: ("您好！您反映的「{category}」问题（案卷号 {number}）已处置完毕，经监督员现场核查后结案。"
                   "如仍有问题，欢迎再次反映。感谢您对城市管理的支持！"),
    Action.REJECT: ("您好！您{when}反映的「{category}」问题（案卷号 {number}）经审核不予立案，原因：{reason}。"
                    "如有疑问，欢迎来电咨询。"),
    Action.LINK: ("您好！您{when}反映的「{category}」问题已由案卷 {original} 受理处置，我们会按该案卷的进展处理，"
                  "不再重复立案。感谢您的反映！"),
}
#: The reason quoted in a 不予立案 reply when none was given.
DEFAULT_REASON = "不符合立案标准"


__all__ = ["DEFAULT_REASON", "MAX_EXTENSION_MINUTES", "REPLY_SOURCES", "TEMPLATES"]
