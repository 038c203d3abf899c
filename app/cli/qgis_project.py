"""gridhall qgis-project (issue 15)."""

from __future__ import annotations

import argparse


def add_qgis_project_command(sub: argparse._SubParsersAction) -> None:
    """Register the subcommand (placeholder until this session's helper fills it in)."""
