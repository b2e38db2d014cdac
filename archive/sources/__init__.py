"""Where article URLs come from: RSS/Atom feeds, XML sitemaps, URL lists and bookmark exports,
and the sources a crawl has registered in the database with the entries they listed.
"""
