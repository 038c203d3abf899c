"""The demo's histories obey the verification gate (issue 11, item 1): a report from a public
channel is verified (confirmed) before it is filed, in the compact city histories too."""

from __future__ import annotations

import random

import pytest

from data.democity.history import VERIFY_BEFORE_FILING, build_path


@pytest.mark.parametrize("compact", [False, True])
@pytest.mark.parametrize("source", ["public", "hotline", "media", "police", "supervisor", "video"])
def test_public_channels_are_verified_before_filing(source, compact):
    rng = random.Random(11)
    for target in ("filed", "handling", "closed"):
        actions = [s.action for s in build_path(rng, source, target, set(), compact)]
        filed = actions.index("file")
        verifies = [i for i, a in enumerate(actions) if a == "verify"]
        if source in VERIFY_BEFORE_FILING:
            assert verifies and verifies[-1] < filed, (source, target, actions)
            last = build_path(random.Random(11), source, target, set(), compact)[verifies[-1]]
            assert (last.payload or {}).get("confirmed") is True
        elif source == "supervisor":
            assert not verifies


@pytest.mark.parametrize("compact", [False, True])
def test_every_demo_close_records_its_missing_evidence_and_the_override(compact):
    steps = build_path(random.Random(3), "public", "closed", set(), compact)
    close = next(s for s in steps if s.action == "close")
    assert close.payload["override"] is True and close.reason
    assert close.payload["evidence"]["missing"] == ["before_photo", "after_photo"]  # the demo stores no photos
