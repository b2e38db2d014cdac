"""One capture from fetch to row: the plain record a fetch produces, the ``captures`` table that
stores it and reads it back, and the extraction pass that judges archived bodies again after a
crawl (``morgue extract``).
"""
