"""Limits on expensive work: rate limits per client address, and the 429 that says when to retry.

Counting is django-ratelimit's (fixed windows in the shared "ratelimit" cache, Redis); the
rates are settings (``RATE_LIMITS``), named by group. A limited request gets 429 with a
``Retry-After`` header and a page (or, for the API, JSON) saying how long to wait.
"""

from __future__ import annotations

import ipaddress
import logging
import math
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.cache.backends.redis import RedisCache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django_ratelimit.core import get_usage
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# Messages people read; tests import them.
TOO_MANY_REQUESTS = "Too many requests from your address ({rate}). Try again in {wait}."
PERIOD_WORDS = {"s": "second", "m": "minute", "h": "hour", "d": "day"}


def client_ip(request: HttpRequest) -> str:
    """The client's address: the one the trusted proxies saw, else the connection's.

    With ``TRUSTED_PROXY_COUNT`` proxies in front (each appends the address it was
    reached from to X-Forwarded-For), the client is that many entries from the end;
    anything before was written by the client and proves nothing.
    """
    remote = request.META.get("REMOTE_ADDR") or "0.0.0.0"
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= proxies:
            candidate = forwarded[-proxies]
            try:
                return str(ipaddress.ip_address(candidate))
            except ValueError:
                logger.warning("X-Forwarded-For entry is not an address: %r", candidate[:60])
    return remote


def rate_in_words(rate: str) -> str:
    """'30/m' -> 'at most 30 per minute'; '5/10m' -> 'at most 5 per 10 minutes'."""
    count, period = rate.split("/")
    amount, unit = period[:-1], PERIOD_WORDS[period[-1]]
    if amount and amount != "1":
        return f"at most {count} per {amount} {unit}s"
    return f"at most {count} per {unit}"


def wait_in_words(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} second{'' if seconds == 1 else 's'}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minutes"


def too_many_requests(
    request: HttpRequest, *, message: str, retry_after: int, as_json: bool
) -> HttpResponse:
    """429 with Retry-After, as JSON ({"errors": {"rate": ...}}) or as a page."""
    retry_after = max(1, int(retry_after))
    if as_json:
        response: HttpResponse = JsonResponse(
            {"errors": {"rate": message}, "retry_after": retry_after}, status=429
        )
    else:
        response = TemplateResponse(
            request,
            "429.html",
            {"message": message, "retry_after": retry_after},
            status=429,
        ).render()
    response["Retry-After"] = str(retry_after)
    return response


def rate_limit_exceeded(
    request: HttpRequest, group: str, *, key: str = "ip"
) -> tuple[str, int] | None:
    """Count this request against every rate of ``group``; (rate, seconds left) if over one."""
    exceeded = None
    for rate in settings.RATE_LIMITS[group]:
        usage = get_usage(request, group=group, key=key, rate=rate, increment=True)
        if usage and usage["should_limit"] and exceeded is None:
            exceeded = rate, usage["time_left"]
    return exceeded


def rate_limited(
    group: str, *, key: str = "ip", methods: tuple[str, ...] = ("POST",), as_json: bool = False
) -> Callable:
    """Decorate a view: requests of ``methods`` count against ``RATE_LIMITS[group]``."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs):
            if request.method in methods:
                exceeded = rate_limit_exceeded(request, group, key=key)
                if exceeded is not None:
                    rate, seconds = exceeded
                    message = TOO_MANY_REQUESTS.format(
                        rate=rate_in_words(rate), wait=wait_in_words(max(1, seconds))
                    )
                    logger.warning("rate limit %s (%s) reached", group, rate)
                    return too_many_requests(
                        request, message=message, retry_after=seconds, as_json=as_json
                    )
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


class ForgivingRedisCache(RedisCache):
    """The rate-limit counters' cache: when Redis does not answer, count nothing.

    django-ratelimit then lets the request through (RATELIMIT_FAIL_OPEN): a Redis
    outage must not turn every form post into an error.
    """

    def add(self, *args, **kwargs):
        try:
            return super().add(*args, **kwargs)
        except RedisError as error:
            logger.warning("rate limits not counted: Redis did not answer (%s)", error)
            return False

    def incr(self, *args, **kwargs):
        try:
            return super().incr(*args, **kwargs)
        except RedisError:
            return None

    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except RedisError:
            return default
