"""One capture from fetch to row: the plain record a fetch produces, the ``captures`` table that
stores it and reads it back, the extraction pass that judges archived bodies again after a
crawl (``morgue extract``), and a page's requisites: which URLs it needs and which payloads are
already archived.
"""
