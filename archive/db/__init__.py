"""The metadata database: its schema, the engine and its tuning, the migrations, and the rows
through which processes coordinate (run heartbeats, page claims).

The lowest layer of the library after the foundation modules (``archive.exceptions``,
``archive.defaults``, ``archive.durations``, ``archive.urls``, ``archive.paths``): everything
that records or reads captures stands on it, and it imports nothing above it.
"""
