"""Is the page still there: the liveness verdicts, soft-404 detection and the probes it compares
against, shared redirect targets, pages that need a browser, a page's state over its captures,
the one judging path from a fetched body to its verdict, and Memento lookups for the dead.
"""
