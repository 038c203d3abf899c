"""English of the geocoding messages (issue 16, items 1–2); merged into MESSAGES_EN."""

GEOCODE_EN: dict[str, str] = {
    "没有找到「{text}」对应的地址": "no address found for '{text}'",
    "本库没有门牌": "this database has no house numbers",
}
