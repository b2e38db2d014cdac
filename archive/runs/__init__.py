"""Runs: archiving a list of URLs and crawling sources now (the library's ``archive_urls`` and
``crawl``), the crawl child process and its progress events, what became of each source, and
scheduled crawls with the runner that starts them. The top of the library: the faces (CLI,
scheduler loop, web UI, workers) call into here and into ``archive.query``.
"""
