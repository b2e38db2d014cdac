"""One module per schema revision; ``archive.db`` applies them in order."""

__all__: list[str] = []
