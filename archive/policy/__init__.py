"""What a crawl may fetch and how fast: the links a site crawl follows, the network addresses
it may connect to, and the delay between two requests to one host.

Pure rules with no I/O, read by the Scrapy components and by the library's runs alike.
"""
