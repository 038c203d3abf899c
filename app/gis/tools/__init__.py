"""Map tools: navigation with extent history, measuring, go-to, bookmarks, canvas decorations
(scale bar, north arrow) and the print-layout export. Wired into the window by the GUI root."""
