"""English for the open311 messages; the catalogue merges it in (entries of the other tables win)."""

from __future__ import annotations

OPEN311_EN: dict[str, str] = {
    # status notes (app/services/open311.py STATE_NOTES; docs/open311.md)
    "已受理，等待现场核实": "Received; waiting to be verified on site",
    "监督员正在现场核实": "A supervisor is verifying it on site",
    "已立案，等待派遣": "Filed; waiting to be dispatched",
    "已派遣到处置部门": "Dispatched to the responsible department",
    "处置部门正在处置": "The responsible department is handling it",
    "已批准缓办，暂缓处置": "Deferred (approved); handling postponed",
    "已挂账，列入计划处置": "Shelved; handling is scheduled",
    "处置完毕，等待核查": "Handled; waiting to be checked",
    "处置完毕，监督员正在核查": "Handled; a supervisor is checking it on site",
    "核查通过，等待结案": "Check passed; waiting to be closed",
    "正在协调处置部门": "The responsible department is being settled",
    "已结案": "Closed",
    "已作废": "Voided",
    "不予立案": "Not filed",
    "与已有请求 {number} 重复，合并处理": "Duplicate of request {number}; handled together",
    "{state}：{text}": "{state}: {text}",
    "{kind}：{major}—{name}": "{kind}: {major} — {name}",
    "已处置完毕，经监督员现场核查后结案": "handled, checked on site by a supervisor and closed",
    "不符合立案标准": "it does not meet the filing standard",
    # {when} of an automatic reply (app/domain/derived.py TEMPLATES), shown in English
    "于{month}月{day}日": " on {month}/{day}",
    "已受理，编号 {number}；核实后立案处置": "Received as {number}; it is filed and handled once verified",
    "公众通过 Open311 上报「{name}」（未附描述）": "“{name}” reported by the public over Open311 (no description)",
    "部件标识码：若能看到部件上的编号请填写，否则留空":
        "Component code: fill in the number on the component's plate if you can see it, else leave empty",
    "17 位部件标识码（部件上的标牌）": "17-digit component code (on the component's plate)",
    # keys
    "密钥名称「{name}」无效：只能用字母、数字和 _.-，至多 64 个字符":
        "Key name “{name}” is invalid: letters, digits and _.- only, at most 64 characters",
    "每分钟请求上限应为 1–100000 的整数，实际为 {value}": "The rate per minute must be a whole number 1–100000, not {value}",
    "已有名为「{name}」的密钥：请换一个名称，或先吊销旧密钥":
        "A key named “{name}” exists: choose another name, or revoke the old key first",
    "没有名为「{name}」的有效密钥（可用 gridhall open311 key list 查看）":
        "No active key named “{name}” (see gridhall open311 key list)",
    "缺少 api_key：提交服务请求需要有效的 API 密钥": "api_key missing: posting a service request needs a valid API key",
    "api_key 无效": "Invalid api_key",
    "api_key 已被吊销": "The api_key has been revoked",
    "密钥「{name}」已吊销": "Key “{name}” revoked",
    "密钥「{name}」已建立（每分钟 {rate} 次）；它只显示这一次，请妥善保存":
        "Key “{name}” made ({rate} a minute); it is shown only this once, keep it safe",
    # query parameters
    "{name} 应为 W3C 日期时间，如 2010-01-01T00:00:00Z，实际为「{value}」":
        "{name} must be a W3C datetime such as 2010-01-01T00:00:00Z, not “{value}”",
    "{name} 超出可用的日期范围：{value}": "{name} is outside the usable dates: {value}",
    "end_date 早于 start_date": "end_date is before start_date",
    "start_date 到 end_date 不能超过 90 天": "start_date to end_date may not span more than 90 days",
    "没有服务代码「{code}」": "No service code “{code}”",
    "service_request_id 至多 {n} 个": "At most {n} service_request_id values",
    "service_request_id 太长": "service_request_id is too long",
    "service_request_id 含有控制字符": "service_request_id contains a control character",
    "没有服务请求「{id}」": "No service request “{id}”",
    "没有令牌「{token}」": "No token “{token}”",
    "status 只能是 open 或 closed，实际为「{value}」": "status must be open or closed, not “{value}”",
    "service_code「{code}」无效": "Invalid service_code “{code}”",
    "查询参数无法解析": "The query string cannot be parsed",
    "没有这个接口：{path}": "No such endpoint: {path}",
    "格式「{fmt}」不支持：应为 json 或 xml": "Format “{fmt}” is not supported: use json or xml",
    "没有 jurisdiction_id「{id}」": "jurisdiction_id “{id}” not found",
    "这个接口不接受 POST：{path}": "This endpoint does not take POST: {path}",
    # posted values
    "{name} 超出范围：应在 {low} 与 {high} 之间": "{name} is out of range: it must be between {low} and {high}",
    "{name} 应为数字，实际为「{value}」": "{name} must be a number, not “{value}”",
    "{name} 太长：至多 {limit} 个字符": "{name} is too long: at most {limit} characters",
    "缺少 service_code": "service_code missing",
    "service_code「{code}」无效：没有这个服务": "Invalid service_code “{code}”: no such service",
    "缺少位置：请给出 lat 和 long，或 address_string": "Location missing: give lat and long, or address_string",
    "lat 与 long 需要同时给出": "lat and long must be given together",
    "字段名太长": "A field name is too long",
    # bodies
    "JSON 请求体应为一个对象": "The JSON body must be one object",
    "JSON 请求体无法解析": "The JSON body cannot be parsed",
    "JSON 字段「{name}」应为文本或数字": "JSON field “{name}” must be text or a number",
    "XML 请求体无法解析": "The XML body cannot be parsed",
    "XML 字段「{name}」应为文本": "XML field “{name}” must be text",
    "表单请求体无法解析": "The form body cannot be parsed",
    "multipart 请求体无法解析：{error}": "The multipart body cannot be parsed: {error}",
    "请求体不是 UTF-8 编码": "The body is not UTF-8",
    "不支持的请求体类型「{type}」：请用 application/x-www-form-urlencoded、multipart/form-data、JSON 或 XML":
        "Unsupported body type “{type}”: use application/x-www-form-urlencoded, multipart/form-data, JSON or XML",
    "Content-Length 无效": "Invalid Content-Length",
    "请求体太大：超过 {limit} 字节": "The body is too large: over {limit} bytes",
    "请求体太大：不带文件的请求至多 {limit} 字节": "The body is too large: a request without files has at most {limit} bytes",
    "请求体在 {seconds} 秒内未传完": "The body did not arrive within {seconds} seconds",
    "请求太频繁：每分钟至多 {rate} 次，请 {seconds} 秒后再试":
        "Too many requests: at most {rate} a minute; try again in {seconds} seconds",
    # media
    "media_url 只接受 http 或 https 地址": "media_url must be an http or https address",
    "media_url 的主机「{host}」不在允许的列表中：请直接上传照片（multipart 的 media 字段）":
        "media_url's host “{host}” is not allowed: upload the photo instead (multipart field media)",
    "media_url 的照片太大：超过 {limit} 字节": "The photo at media_url is too large: over {limit} bytes",
    "media_url 无效": "Invalid media_url",
    "media_url 取不到照片：{error}": "The photo at media_url could not be fetched: {error}",
    "media_url 取不到照片（HTTP {status}）": "The photo at media_url could not be fetched (HTTP {status})",
    # the server
    "服务处理失败，请稍后再试或联系管理员": "General service error: try again later or tell the administrator",
    "数据库暂时无法访问，请稍后再试": "The database cannot be reached right now; try again later",
    "Open311 服务已启动：http://{host}:{port}/services.json（Ctrl+C 停止）":
        "Open311 server running: http://{host}:{port}/services.json (Ctrl+C stops it)",
    "无法监听 {host}:{port}：{error}": "Cannot listen on {host}:{port}: {error}",
    "不支持 {method} 请求：请用 GET 或 POST": "{method} is not supported: use GET or POST",
}
