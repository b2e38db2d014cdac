"""WARC files: writing records with warcio, reading them back, walking damaged files member by
member in bounded memory, and undoing the HTTP content coding of an archived body.

The bytes on disk that other tools (pywb, cdxj-indexer, ReplayWeb.page) read are written here and
nowhere else.
"""
