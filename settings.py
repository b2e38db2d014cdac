"""Scrapy settings for morgue: polite, archivist defaults.

Every custom setting is prefixed by its component (WARC_, EXTRACT_, STORE_, SOURCES_,
NETPOLICY_, PROGRESS_EVENTS_, REQUISITES_, BROWSER_) and documented in docs/settings.md. The CLI
fills in WARC_DIR, STORE_DB_URL and STORE_RUN_ID from --data-dir and --db; ``-s NAME=VALUE``
overrides any of them.
"""

import archive.defaults as _defaults  # the defaults the library shares, written once
from archive import USER_AGENT as _USER_AGENT

BOT_NAME = "morgue"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"

# -- Politeness ------------------------------------------------------------------------------
USER_AGENT = _USER_AGENT
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 0.5
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.5
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
TELNETCONSOLE_ENABLED = False
# Scrapy 2.19's remote-control server runs Python sent to a local port and leaves a token file in
# the user's profile: not something an unattended archiver should open on every scheduled crawl.
REMOTE_CONTROL_ENABLED = False

# -- What comes back -------------------------------------------------------------------------
# An archive keeps 404 and 503 bodies too: every status reaches the spider.
HTTPERROR_ALLOW_ALL = True
RETRY_ENABLED = True
RETRY_TIMES = 2
# 429 is not retried at once: a refusal is a verdict (blocked), and hammering makes it worse.
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408]
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 32 * 1024 * 1024
DOWNLOAD_WARNSIZE = 8 * 1024 * 1024
REDIRECT_ENABLED = True
REDIRECT_MAX_TIMES = 10
METAREFRESH_ENABLED = False
COOKIES_ENABLED = True

# -- Components ------------------------------------------------------------------------------
# Keeps the status line and header lines as received, for the WARC records (crawler/wire.py).
DOWNLOAD_HANDLERS = {
    "http": "crawler.wire.WireDownloadHandler",
    "https": "crawler.wire.WireDownloadHandler",
}
# Scrapy's own robots.txt middleware lets concurrent requests through (crawler/robots.py).
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.robots.ObeyingRobotsTxtMiddleware": 100,
    # First to see each response: waits for its WARC records (crawler/warc_capture.py).
    "crawler.warc_capture.AwaitCapture": 950,
    # First to see each download error: a refused address is not retried (crawler/netpolicy.py).
    "crawler.netpolicy.NetPolicyMiddleware": 960,
}
# A distributed worker's requests carry their crawl to the requests they lead to.
SPIDER_MIDDLEWARES = {"crawler.redis_frontier.crawl_tag.CrawlTag": 10}
# Scrapy's caching resolver, refusing addresses the crawl may not reach (crawler/netpolicy.py).
TWISTED_DNS_RESOLVER = "crawler.netpolicy.GuardedResolver"
EXTENSIONS = {
    "crawler.warc_capture.WarcCapture": 100,
    "crawler.extraction_workers.ExtractionWorkers": 200,
    "crawler.progress.ProgressEvents": 500,
    "crawler.lifeline.Lifeline": 600,
}
ITEM_PIPELINES = {
    # Starts fetching a page's requisites before extraction drops its body; collected at 750.
    "pipelines.requisites.RequisitesPipeline": 250,
    "pipelines.extract.ExtractPipeline": 300,
    "pipelines.classify.ClassifyPipeline": 400,
    # Renders in Chromium the pages that need it (or all, --browser): after the verdict.
    "pipelines.browser.BrowserPipeline": 450,
    "pipelines.recover.RecoverPipeline": 500,
    "pipelines.requisites.RequisitesCollect": 750,
    "pipelines.store.StorePipeline": 800,
}

# -- The crawl's process (crawler.run) -------------------------------------------------------
CRAWL_SWITCH_INTERVAL = 0.0001  # seconds; sys.setswitchinterval (Python's default: 0.005)
CRAWL_MALLOC_MMAP_THRESHOLD = 262144  # bytes; glibc's, fixed (0: glibc's sliding default)
CRAWL_PARENT_PID = 0  # set by the CLI: the process whose death stops this crawl (0: none)
CRAWL_HEARTBEAT_INTERVAL = 30.0  # seconds between renewals of the run's heartbeat

# -- WARC capture (crawler.warc_capture.WarcCapture) ----------------------------------------------
WARC_ENABLED = True
WARC_DIR = None  # set from --data-dir: DATA_DIR/warcs
WARC_PREFIX = _defaults.WARC_PREFIX
WARC_MAX_SIZE = _defaults.WARC_MAX_SIZE
WARC_GZIP_LEVEL = _defaults.WARC_GZIP_LEVEL
WARC_WRITE_THREADS = 2  # threads compressing and writing records
WARC_IS_PART_OF = ""
WARC_HOSTNAME = None  # the host part of WARC file names; None: this machine's name

# -- Distributed crawl (morgue worker: crawler.redis_frontier) -------------------------------
# Set by `morgue worker --redis URL`, with SCHEDULER and DUPEFILTER_CLASS (archive.distributed).
MORGUE_REDIS_URL = None
MORGUE_REDIS_PREFIX = "morgue"  # every key of the frontier starts with it
MORGUE_REDIS_WORKER_ID = None  # default: HOST.PID
MORGUE_REDIS_LEASE = 60.0  # seconds a popped request is held before any worker re-queues it
MORGUE_REDIS_HEARTBEAT = 10.0  # seconds between lease renewals (and re-queues of expired ones)
MORGUE_REDIS_MAX_TRIES = 3  # re-queues after lost leases before an entry goes to the dead list
MORGUE_REDIS_SEEN_TTL = 7 * 86400  # seconds a crawl's seen set is kept after its last addition
MORGUE_REDIS_SEEN_CAP = 10_000_000  # fingerprints one crawl's seen set holds at most
MORGUE_REDIS_DOMAIN_DELAY = (
    None  # seconds between two fetches of a host by all workers; None: DOWNLOAD_DELAY
)

# -- Extraction (pipelines.extract.ExtractPipeline) ------------------------------------------
EXTRACT_ENABLED = True
EXTRACT_WORKERS = 0  # 0: one worker process per CPU
EXTRACT_TIMEOUT = _defaults.EXTRACT_TIMEOUT

# -- Storage (pipelines.store.StorePipeline) -------------------------------------------------
STORE_ENABLED = True
STORE_DB_URL = None  # set from --db / --data-dir
STORE_RUN_ID = 0  # the runs row this crawl reports into; 0 for none
STORE_MAX_BATCH = 100  # captures committed in one transaction at most (when that many wait)
STORE_TEST_DIE_BEFORE_COMMIT = ""  # tests only: SIGKILL the process group before this URL's row

# -- Page requisites (pipelines.requisites, crawler.requisite_fetcher) ----------------------
REQUISITES_ENABLED = False  # morgue archive turns it on (--no-requisites: off); crawl --requisites
REQUISITES_MAX_PER_PAGE = 200  # requisites fetched for one page at most, stylesheets' included
REQUISITES_DB_URL = None  # set from --db / --data-dir: payloads archived by earlier runs
REQUISITES_REFRESH_AFTER = "1d"  # a URL archived this recently is not fetched again ("0": off)

# -- Browser capture (pipelines.browser, crawler.browser_pool) -------------------------------
BROWSER_ENABLED = False  # --browser / --browser auto
BROWSER_MODE = "always"  # always: every HTML page; auto: pages whose HTML has no article text
BROWSER_EXECUTABLE = ""  # "": chromium, chromium-browser or google-chrome on PATH
BROWSER_PAGES = 2  # pages rendered at once (one Chromium, a context each)
BROWSER_PDF = False  # also print each rendered page to PDF (a resource record, urn:pdf:URL)
BROWSER_TIMEOUT = 30.0  # seconds for a page to load; past it the browser is killed and restarted
BROWSER_SETTLE = 2.0  # seconds to wait for the network to go quiet after the load event

# -- Liveness verdicts and soft-404 probes (pipelines.classify.ClassifyPipeline) -------------
LIVENESS_PROBE_ENABLED = True
LIVENESS_PROBE_MAX_AGE = _defaults.LIVENESS_PROBE_MAX_AGE  # days a probe is reused, across crawls
LIVENESS_DB_URL = None  # set from --db / --data-dir: where probes are kept
LIVENESS_DEAD_CHECKS = _defaults.LIVENESS_DEAD_CHECKS  # dead checks before dead_confirmed...
LIVENESS_DEAD_SPAN = _defaults.LIVENESS_DEAD_SPAN  # ...at least this many days apart

# -- Recovery of dead pages over Memento (pipelines.recover.RecoverPipeline) -----------------
MEMENTO_ENABLED = True
MEMENTO_TIMEGATE = "https://web.archive.org/web/"  # --timegate / MORGUE_TIMEGATE

# -- Crawl sources (crawler.spiders.sources.SourcesSpider) -----------------------------------
# Crawler-trap guards for site crawls: links longer than this, deeper than this, or repeating a
# path segment more often than this are not followed.
SOURCES_MAX_URL_LENGTH = 512
SOURCES_MAX_PATH_DEPTH = 12
SOURCES_MAX_SEGMENT_REPEATS = 2
# Feeds and sitemaps one crawl reads at most (sitemap indexes can nest and list each other).
SOURCES_MAX_SITEMAPS = _defaults.SOURCES_MAX_SITEMAPS

# -- Loopback, private, link-local and multicast addresses (crawler.netpolicy) ---------------
NETPOLICY_ENABLED = True
NETPOLICY_ALLOW_PRIVATE = False  # --allow-private: reach them whatever the seeds
NETPOLICY_SEEDS = None  # URLs whose networks the crawl may reach; None: the URLs it starts from

# -- Progress events for the CLI (crawler.progress.ProgressEvents) ---------------------------
PROGRESS_EVENTS_ENABLED = False

LOG_LEVEL = "INFO"
