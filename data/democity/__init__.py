"""The deterministic demo city (``gridhall demo``): a fictitious district of Suzhou (320508).

Entry point: :func:`data.democity.generate.generate`. Modules: ``geography`` (lattice of unit
grids, communities, streets, roads), ``org`` (departments, ownership, routing, users),
``components`` (asset placement), ``history`` / ``cases`` / ``stream`` (case histories and
their hash-chained events), ``static`` / ``writer`` (bulk inserts).
"""
