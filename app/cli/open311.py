"""gridhall serve-open311 and open311 key add|list|revoke (issue 16)."""

from __future__ import annotations

import argparse


def add_open311_commands(sub: argparse._SubParsersAction) -> None:
    """Register the subcommand (placeholder until this session's helper fills it in)."""
