"""English for the exchange messages; the catalogue merges it in (entries of the other tables win).

Besides the messages of ``gridhall exchange`` (app/cli/exchange.py, app/open311/client.py,
app/services/exchange.py, app/services/replies.py) it holds the English of the reply texts
(两次回复, app/domain/derived.py ``TEMPLATES``) so a reply can be shown in English with the same
placeholders ({when} {category} {number} {reason} {original}).
"""

from __future__ import annotations

EXCHANGE_EN: dict[str, str] = {
    # the client and its run
    "--timeout 应在 0.5 到 600 秒之间": "--timeout must be between 0.5 and 600 seconds",
    "--until 早于 --since": "--until is before --since",
    "上级平台 {path} 的回答不是 JSON": "the platform's answer to {path} is not JSON",
    "上级平台 {path} 的回答不是请求列表": "the platform's answer to {path} is not a list of requests",
    "上级平台 {path} 的回答太大：超过 {limit} 字节": "the platform's answer to {path} is too large: over {limit} bytes",
    "上级平台 {url} 的回答在 {seconds} 秒内没有传完：这次调用可能已生效":
        "the platform {url} did not finish its answer within {seconds} s: the call may have taken effect",
    "上级平台把 {path} 重定向到「{location}」：请用最终的地址作为 --endpoint":
        "the platform redirects {path} to “{location}”: give the final address as --endpoint",
    "上级平台 {path} 回答的 service_request_id 无效：应为至多 {n} 个字符的文本":
        "the service_request_id in the platform's answer to {path} is invalid: it must be a text of at most {n} characters",
    "上级平台请求的 service_request_id「{id}」无效：应为至多 {n} 个字符的文本":
        "the platform request's service_request_id “{id}” is invalid: it must be a text of at most {n} characters",
    "上级平台请求 {remote_id} 的 {name} 应为文本": "{name} of the platform request {remote_id} must be a text",
    "上级平台请求 {remote_id} 的 {name} 含有 NUL 字符": "{name} of the platform request {remote_id} contains a NUL character",
    "上级平台 {path} 的回答没有 service_request_id": "the platform's answer to {path} has no service_request_id",
    "上级平台 {url} 没有回应（{error}）：这次调用可能已生效":
        "the platform {url} did not answer ({error}): the call may have taken effect",
    "上级平台拒绝了 {method} {path}：HTTP {status} {errors}": "the platform refused {method} {path}: HTTP {status} {errors}",
    "上级平台的请求没有 service_request_id": "a request of the platform has no service_request_id",
    "上级平台请求 {remote_id} 既没有坐标也没有地址": "platform request {remote_id} has neither coordinates nor an address",
    "上级平台请求 {remote_id} 没有 service_code": "platform request {remote_id} has no service_code",
    "交换地址「{url}」无效：应为 http:// 或 https:// 开头的网址":
        "exchange endpoint '{url}' is not valid: it must be an http:// or https:// URL",
    "交换地址不能包含用户名或密码：请用 --api-key 给出密钥":
        "the exchange endpoint must not contain a user name or password: give the key with --api-key",
    "交换地址太长（{n} 个字符，最多 200）": "the exchange endpoint is too long ({n} characters, at most 200)",
    "平台名称「{name}」无效：只能用字母、数字和 _.-:，至多 64 个字符":
        "platform name '{name}' is not valid: letters, digits and _.-: only, at most 64 characters",
    "来源「{value}」无效：应为 {choices}": "source '{value}' is not valid: choose one of {choices}",
    "缺少上级平台的 API 密钥（--api-key）": "the platform's API key is missing (--api-key)",
    "缺少上级平台的 API 密钥：用 --api-key 或环境变量 {env} 给出":
        "the platform's API key is missing: give it with --api-key or the environment variable {env}",
    "连不上上级平台 {url}：{error}": "cannot reach the platform {url}: {error}",
    "运行 {run_id}：{counts}；游标 {cursor}": "run {run_id}: {counts}; cursor {cursor}",
    "没有要交换的内容": "nothing to exchange",
    "照片未取：{host} 不在允许的主机中（--allow-media-host）": "photo not fetched: {host} is not an allowed host (--allow-media-host)",
    "已中断：中断前完成的条目已保存；再次运行会从中断处继续，不会重复":
        "interrupted: the items done before are saved; running again continues where it stopped, nothing twice",
    "已完成的部分已保存；再次运行会从中断处继续": "what was done is saved; running again continues where it stopped",
    # outcomes of the log
    "新建案卷": "created", "已有": "known", "拒收": "refused", "补链": "recovered", "已送上级": "sent up",
    "已推送": "updated", "待确认": "uncertain", "失败": "failed",
    # replies
    "「{role}」不能登记回复：由受理员或值班长登记": "a {role} cannot record a reply: an acceptor or shift leader does",
    "事件 {event_id} 不需要回复：只有公众和热线案卷的立案、结案需要回复":
        "event {event_id} owes no reply: only the filing and closing of public and hotline cases do",
    "事件 {event_id} 的回复已登记过": "the reply to event {event_id} is already recorded",
    "没有编号为 {event_id} 的案卷事件": "there is no case event {event_id}",
    "登记回复需要 --as 用户名（受理员或值班长）": "recording a reply needs --as USER (an acceptor or shift leader)",
    "已登记：事件 {event_id} 的回复由 {user} 送达（记录 {id}）":
        "recorded: the reply to event {event_id} was delivered by {user} (record {id})",
    "没有待回复的事项": "no replies are owed",
    "还没有登记过回复": "no reply has been recorded yet",
    "应于 {due} 前回复": "reply by {due}",
    "已超时": "overdue",
    "热线回电/短信": "hotline call-back / text",
    "公众渠道（回电/短信）": "public channel (call-back / text)",
    "上级平台（推送状态）": "upper platform (status pushed)",
    # the reply texts themselves (app/domain/derived.py TEMPLATES)
    ("您好！您{when}反映的「{category}」问题（案卷号 {number}）已立案，我们将尽快派遣责任部门处置，"
     "处置结果将再次告知您。感谢您对城市管理的支持！"):
        ("Hello! The '{category}' problem you reported{when} (case {number}) has been filed; we will dispatch the "
         "responsible department as soon as possible and tell you the result. Thank you for supporting city "
         "management!"),
    ("您好！您反映的「{category}」问题（案卷号 {number}）已处置完毕，经监督员现场核查后结案。"
     "如仍有问题，欢迎再次反映。感谢您对城市管理的支持！"):
        ("Hello! The '{category}' problem you reported (case {number}) has been dealt with and was closed after a "
         "supervisor checked it on site. If the problem remains, please report it again. Thank you for "
         "supporting city management!"),
    ("您好！您{when}反映的「{category}」问题（案卷号 {number}）经审核不予立案，原因：{reason}。"
     "如有疑问，欢迎来电咨询。"):
        ("Hello! The '{category}' problem you reported{when} (case {number}) was reviewed and not filed, because: "
         "{reason}. If you have questions, please call us."),
    ("您好！您{when}反映的「{category}」问题已由案卷 {original} 受理处置，我们会按该案卷的进展处理，"
     "不再重复立案。感谢您的反映！"):
        ("Hello! The '{category}' problem you reported{when} is already being handled as case {original}; we "
         "follow that case and do not file it twice. Thank you for reporting!"),
    "不符合立案标准": "it does not meet the filing standard",
    # the desk's 待回复 dock (app/ui/replies_dock.py)
    "待回复": "Replies owed",
    "回复": "Reply",
    "上报人": "Reporter",
    "回复内容": "Reply text",
    "应回复时间": "Reply due",
    "立案回复": "filing reply",
    "结案回复": "closing reply",
    "{due}（已超时）": "{due} (overdue)",
    "正在读取待回复事项…": "Reading the replies owed…",
    "无法读取待回复事项：{error}": "Cannot read the replies owed: {error}",
    "近 {days} 天待回复 {n} 件，超时 {late} 件": "{n} replies owed for the last {days} days, {late} overdue",
    ("列出近 {days} 天立案、结案的公众和热线案卷尚未登记的回复；更早的请用 gridhall exchange replies 查看"):
        ("Lists the replies not yet recorded for public and hotline cases filed or closed in the last {days} days; "
         "for older ones use gridhall exchange replies"),
    "双击一行或按回车：在案卷详情中查看该案卷": "Double-click a row or press Enter: show its case in the case detail",
    "已回复…": "Replied…",
    "登记所选回复已送达上报人（回电或短信之后）":
        "Record that the selected reply reached the reporter (after calling back or texting)",
    "登记已回复": "Record a reply",
    "已回复": "Replied",
    "确认案卷 {number} 的{after}已告知上报人{who}？": "Did the {after} of case {number} reach the reporter{who}?",
    "（{who}）": " ({who})",
    "正在登记回复…": "Recording the reply…",
    "已登记：案卷 {number} 的{after}已回复": "Recorded: the {after} of case {number} was delivered",
    "未能登记回复：{error}": "The reply was not recorded: {error}",
}
