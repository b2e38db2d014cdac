"""Reading the archive: capture filters and full-text search on SQLite and PostgreSQL, counts,
link-rot queries, and ``open_archive``, the read side of the public API.
"""
