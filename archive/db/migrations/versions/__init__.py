"""One module per schema revision; ``archive.db.engine`` applies them in order."""

__all__: list[str] = []
