"""robots.txt, obeyed by every request, including those that wait for the file to arrive.

Scrapy 2.19's ``RobotsTxtMiddleware`` lets all requests to a host that arrive while its
robots.txt is downloading await one shared Deferred through ``Deferred.asFuture``, whose
callback hands ``None`` on to the next one: only the first waiter sees the rules, and the others
are let through as if the host had no robots.txt. Here each waiter gets a Deferred of its own,
relayed from the shared one without consuming its result.
"""

from __future__ import annotations

from typing import Any

from scrapy import Request
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

__all__ = ["ObeyingRobotsTxtMiddleware"]


def _relay(shared: Deferred[Any]) -> Deferred[Any]:
    own: Deferred[Any] = Deferred()

    def forward(result: Any) -> Any:
        own.callback(result)
        return result  # left in place for the next waiter

    shared.addCallback(forward)
    return own


class ObeyingRobotsTxtMiddleware(RobotsTxtMiddleware):
    async def robot_parser(self, request: Request) -> Any:
        netloc = urlparse_cached(request).netloc
        pending = self._parsers.get(netloc)
        if isinstance(pending, Deferred):
            return await maybe_deferred_to_future(_relay(pending))
        return await super().robot_parser(request)
