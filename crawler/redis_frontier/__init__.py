"""A distributed worker's Scrapy components, through scrapy-redis's extension points: the
scheduler (``lease_scheduler.py``), its queue class with leases (``lease_queue.py``), the JSON
serializer (``json_codec.py``), the per-crawl seen filter (``seen_filter.py``), the link to Redis
that waits out an outage (``redis_link.py``), the crawl tag children inherit (``crawl_tag.py``)
and the shared per-domain delay (``domain_gate.py``). Each switches itself off without
``MORGUE_REDIS_URL``; the Redis operations themselves are in ``archive/distributed/``."""
