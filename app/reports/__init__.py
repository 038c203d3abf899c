"""Printed reports (issue 13): the monthly bulletin and the per-department report as PDF
(reportlab, ``app.reports.pdf``) with a map page rendered by QGIS (``app.reports.map``).

The figures come from ``app.services.bulletin.gather``; nothing here computes an indicator.
"""
