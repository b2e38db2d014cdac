"""A distributed worker's Scrapy components, through scrapy-redis's extension points: the
scheduler (``lease_scheduler.py``), its queue class with leases (``lease_queue.py``), the JSON
serializer (``json_codec.py``), the per-crawl seen filter (``seen_filter.py``), the link to Redis
that waits out an outage (``redis_link.py``), and the crawl tag children inherit
(``crawl_tag.py``). The delay between two fetches of a host by all workers is kept by the queue
(one per host, ``archive/distributed/work_queue.py``). Each switches itself off without
``MORGUE_REDIS_URL``."""
