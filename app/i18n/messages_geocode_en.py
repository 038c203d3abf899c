"""English of the geocoding messages (issue 16, items 1–2); merged into MESSAGES_EN."""

GEOCODE_EN: dict[str, str] = {
    "没有找到「{text}」对应的地址": "no address found for '{text}'",
    "本库没有门牌": "this database has no house numbers",
    "地名地址类型必须是 {kinds} 之一，不是「{kind}」": "the gazetteer kind must be one of {kinds}, not '{kind}'",
    "无法读取地名地址文件 {path}": "cannot read the gazetteer file {path}",
    "地名地址文件第 {n} 个要素没有几何": "feature {n} of the gazetteer file has no geometry",
    "地名地址文件第 {n} 个要素没有名称（字段 name 或 路名）": "feature {n} of the gazetteer file has no name (field name or 路名)",
    "地名地址文件第 {n} 个要素的几何是 {got}，应为 {want}": "feature {n} of the gazetteer file is a {got}, not a {want}",
    "地名地址文件第 {n} 个要素的门牌号「{value}」不是数字": "feature {n} of the gazetteer file has house number '{value}', not a number",
    "地名地址库：路段 {segments} 条，门牌 {houses} 个，地标 {landmarks} 个": "Gazetteer: {segments} road segments, {houses} house numbers, {landmarks} landmarks",
    "地名地址文件第 {n} 个要素的坐标无法转换到 EPSG:{srid}（文件的坐标系对吗？）":
        "feature {n} of the gazetteer file cannot be transformed to EPSG:{srid} (is the file's CRS right?)",
    "已导入 {count} 条{kind}": "imported {count} {kind}",
}
