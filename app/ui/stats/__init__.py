"""The statistics dock (统计分析, issue 13, item 2): period picker, pyqtgraph charts, the cases behind
a clicked figure, the map's grid colouring. ``dock.StatsDock``; charts in ``charts``."""
