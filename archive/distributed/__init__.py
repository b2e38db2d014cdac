"""The shared frontier of a distributed crawl, on Redis: key names, leases and their
arithmetic (``leases.py``), the Redis operations workers and faces share (``work_queue.py``),
what a crawl costs Redis (``capacity.py``), enqueuing crawls and URLs (``enqueue.py``), the
state of the frontier and its workers (``status.py``) and running one worker (``worker_run.py``).
No Scrapy here: the workers' Scrapy components live in ``crawler/redis_frontier/``."""
