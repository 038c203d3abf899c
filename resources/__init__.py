"""Data files of GridHall: window layouts, map layer styles, the stylesheet.

A package (with no code) only so that a wheel installs these files next to ``app``, where
``app.config.RESOURCES`` finds them.
"""
