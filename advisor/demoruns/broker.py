"""What the Celery broker (Redis) holds of demo runs, so the sweep can tell a lost message.

Kombu's Redis transport keeps a queue's waiting messages in a list named after the queue
(one more list per priority step, named queue + "\\x06\\x16" + step) and the messages
delivered to a worker but not yet acknowledged in the hash ``unacked``. A task message
names its run in its headers (``argsrepr``), so searching the raw messages for run ids is
enough. When the broker is not Redis, or does not answer, nothing can be said: None.
"""

from __future__ import annotations

import logging
import re

import redis
from django.conf import settings

logger = logging.getLogger(__name__)

PRIORITY_SEPARATOR = "\x06\x16"
PRIORITY_STEPS = (3, 6, 9)  # kombu's default steps; step 0 is the plain queue name
UNACKED_KEY = "unacked"
UUID_PATTERN = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
TIMEOUT_SECONDS = 2.0


def broker_run_ids() -> set[str] | None:
    """Ids of the runs whose message waits in the demo queue or is held by a worker."""
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return None
    queue = settings.DEMO_RUN_QUEUE
    keys = [queue, *(f"{queue}{PRIORITY_SEPARATOR}{step}" for step in PRIORITY_STEPS)]
    try:
        client = redis.Redis.from_url(
            url, socket_connect_timeout=TIMEOUT_SECONDS, socket_timeout=TIMEOUT_SECONDS
        )
        # The lists first: a message moves from a list to `unacked` when a worker takes it.
        with client.pipeline(transaction=True) as pipeline:
            for key in keys:
                pipeline.lrange(key, 0, -1)
            pipeline.hvals(UNACKED_KEY)
            replies = pipeline.execute()
    except (redis.RedisError, OSError) as error:
        logger.warning("demo runs: cannot read the broker's queue: %s", error)
        return None
    return {
        found.decode("ascii")
        for reply in replies
        for message in reply
        for found in UUID_PATTERN.findall(message)
    }
