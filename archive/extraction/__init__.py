"""Reading a news page: the article text and metadata (trafilatura, JSON-LD, Open Graph), the
facts a page states about itself before pruning, the boilerplate cut after extraction, and the
killable process pool that extraction runs in, off the crawl's reactor thread.
"""
