"""The administrator's basic-data maintenance page (基础数据维护, issue 15 item 4): qtpy only.

``BaseMaintPage`` lists components or unit grids, edits a component's attributes and status,
adds and retires components, moves one on the map, splits a grid along a line drawn on the map
(or typed) and merges grids, each change with its reason; the selected feature's history is shown
under it. The map seams come from the GUI root: ``pick`` (the map's point picker) and the line
tools registered with :func:`set_map_tools` (app/gis/base_edit_tools.py).
"""

from app.ui.base_maint.page import BASE_PAGE_TITLE, BaseMaintPage, make_base_page, map_tools, set_map_tools

__all__ = ["BASE_PAGE_TITLE", "BaseMaintPage", "make_base_page", "map_tools", "set_map_tools"]
