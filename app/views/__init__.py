"""Qt-free view models shared by the desk, the map, plugins and the wall.

The queue (:mod:`queue_state`, :mod:`queue_filter`, :mod:`queue_order`), alerts
(:mod:`alerts`), signals without Qt (:mod:`events`) and registration handles (:mod:`handles`).
Nothing here imports Qt, QGIS or SQL; widgets subscribe to these models.
"""
