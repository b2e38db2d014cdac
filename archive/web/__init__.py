"""The web face, ``morgue serve``: pages to search the archive, read captures, see what died and
follow runs, a JSON API under /api/ with the CLI's objects, background archive jobs behind a
token, and the replay of archived pages from a second origin. It reads through the library's
public side only (query, captures, runs, paths) and never imports the CLI.
"""
