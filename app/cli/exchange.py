"""gridhall exchange pull|push (issue 16)."""

from __future__ import annotations

import argparse


def add_exchange_command(sub: argparse._SubParsersAction) -> None:
    """Register the subcommand (placeholder until this session's helper fills it in)."""
