"""Open311 GeoReport v2: the server the public's front ends post to, and the exchange client.

An HTTP entry point beside the desk and the wall: it reaches the store only through the headless
core and the command layer, never through Qt.
"""
