"""MANIFEST.toml validation: good manifests parse, bad ones say what to fix."""

from __future__ import annotations

import pytest

from app.plugin.manifest import API_VERSION, ManifestError, api_compatible, parse_manifest, read_manifest

GOOD = """
id = "demo"
name = "演示"
version = "1.2.0"
api_version = "1.0"
description = "示例插件"
author = "someone"
"""


def test_a_good_manifest_parses():
    m = parse_manifest(GOOD, "demo")
    assert (m.id, m.name, m.version, m.api_version, m.author) == ("demo", "演示", "1.2.0", "1.0", "someone")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("id = ", "not valid TOML"),
        ('id = "demo"\nname = "x"\nversion = "1"', "missing required key(s) api_version"),
        (GOOD + 'colour = "red"\n', "unknown key(s) colour"),
        (GOOD.replace('"1.2.0"', "1.2"), "'version' must be a string"),
        (GOOD.replace('id = "demo"', 'id = "Demo-1"'), "lower-case letters"),
        (GOOD.replace('id = "demo"', 'id = "other"'), "must equal the folder name 'demo'"),
        (GOOD.replace('"1.2.0"', '"one"'), "is not like 1.0"),
        (GOOD.replace('api_version = "1.0"', 'api_version = "1"'), "must be 'major.minor'"),
        (GOOD.replace('api_version = "1.0"', 'api_version = "2.0"'), f"provides {API_VERSION}"),
        (GOOD.replace('name = "演示"', 'name = " "'), "name must not be empty"),
    ],
)
def test_bad_manifests_are_refused_with_a_clear_message(text, message):
    with pytest.raises(ManifestError) as info:
        parse_manifest(text, "demo")
    assert message in str(info.value)


def test_api_compatibility_is_same_major_and_not_newer_minor():
    assert api_compatible("1.0", "1.3")
    assert not api_compatible("1.4", "1.3")
    assert not api_compatible("2.0", "1.3")


def test_a_folder_without_manifest_is_reported(tmp_path):
    with pytest.raises(ManifestError, match="no MANIFEST.toml"):
        read_manifest(tmp_path)
