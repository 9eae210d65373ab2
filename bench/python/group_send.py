"""
channels_redis 4.x (Debian's) on the same machine and Redis as our benches: group_send to 1, 100
and 1,000 members of one process, timed until every member's receive() returned the message.
Layer calls only, no consumers, so it is a floor for what a Django consumer would see.

    /usr/bin/python3 bench/python/group_send.py redis://127.0.0.1:PORT [ITERATIONS] [WARMUP]

Prints one JSON line: {"1": {"median": ms, "p95": ms}, "100": ..., "1000": ...}.
"""
import asyncio
import json
import sys
import time

from channels_redis.core import RedisChannelLayer


def summarize(values):
    ordered = sorted(values)
    return {
        "median": ordered[len(ordered) // 2],
        "p95": ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))],
    }


async def measure(layer, size, iterations, warmup):
    group = f"bench.python.{size}"
    channels = [await layer.new_channel() for _ in range(size)]
    for channel in channels:
        await layer.group_add(group, channel)
    latencies = []
    for i in range(warmup + iterations):
        start = time.perf_counter()
        await layer.group_send(group, {"type": "bench.ping", "seq": i})
        await asyncio.gather(*(layer.receive(channel) for channel in channels))
        if i >= warmup:
            latencies.append((time.perf_counter() - start) * 1000)
    for channel in channels:
        await layer.group_discard(group, channel)
    return summarize(latencies)


async def main():
    url = sys.argv[1]
    iterations = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    warmup = int(sys.argv[3]) if len(sys.argv) > 3 else 30
    layer = RedisChannelLayer(hosts=[url], prefix="bench-python", capacity=10_000)
    results = {str(size): await measure(layer, size, iterations, warmup) for size in (1, 100, 1000)}
    await layer.flush()
    print(json.dumps(results))


asyncio.run(main())
