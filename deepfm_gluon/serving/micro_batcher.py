"""Micro-batching: rows from concurrent requests scored in one model call.

One call for 100 rows costs little more than one for 1 row, so a server that
scores each request alone wastes most of its time on per-call overhead. Each
request puts its rows on an asyncio queue; one task takes what is waiting
(up to ``max_rows``, waiting at most ``max_wait_s`` for more), scores it in a
worker thread (the event loop keeps accepting requests meanwhile) and hands
each request its slice back, in order.
"""
import asyncio

import numpy as np


class MicroBatcher:
    """``await submit(features)`` -> that request's probabilities.

    predict: int64 (n, num_fields) -> float32 (n,); runs in ``executor``.
    ``join``: the requests' inputs -> one batch input (default
    ``np.concatenate``; the server passes raw rows, joined as one list, so that
    ``predict`` encodes them once per batch, off the event loop).
    A request larger than ``max_rows`` is scored alone, never split.
    """

    def __init__(self, predict, executor, max_rows=2048, max_wait_s=0.002, join=np.concatenate):
        self.predict, self.executor, self.join = predict, executor, join
        self.max_rows, self.max_wait_s = int(max_rows), float(max_wait_s)
        self.queue = asyncio.Queue()
        self.batches = self.rows = 0  # what /metadata reports
        self._task = None

    def start(self):
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self):
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def submit(self, features):
        """features: one request's n rows (int32 (n, num_fields) feature indices,
        or whatever ``join`` and ``predict`` take) -> float32 (n,) its click
        probabilities, once its batch has run."""
        future = asyncio.get_running_loop().create_future()
        await self.queue.put((features, future))
        return await future

    async def _collect(self, carried):
        """The next batch: the carried-over item or the first waiting one, then
        whatever fits and arrives within max_wait_s; returns (batch, carry)."""
        batch = [carried if carried is not None else await self.queue.get()]
        rows = len(batch[0][0])
        deadline = asyncio.get_running_loop().time() + self.max_wait_s
        while rows < self.max_rows:
            if self.queue.empty():
                remaining = deadline - asyncio.get_running_loop().time()
                if remaining <= 0:
                    break
                try:
                    item = await asyncio.wait_for(self.queue.get(), remaining)
                except asyncio.TimeoutError:
                    break
            else:
                item = self.queue.get_nowait()
            if rows + len(item[0]) > self.max_rows:
                return batch, item
            batch.append(item)
            rows += len(item[0])
        return batch, None

    async def _run(self):
        loop, carried = asyncio.get_running_loop(), None
        while True:
            batch, carried = await self._collect(carried)
            live = [(f, fut) for f, fut in batch if not fut.done()]  # a client may have gone
            if not live:
                continue
            try:
                features = self.join([f for f, _ in live]) if len(live) > 1 else live[0][0]
                probs = await loop.run_in_executor(self.executor, self.predict, features)
            except Exception as err:  # noqa: BLE001 - every waiting request gets the error
                for _, fut in live:
                    if not fut.done():
                        fut.set_exception(err)
                continue
            self.batches += 1
            self.rows += len(features)
            start = 0
            for f, fut in live:
                if not fut.done():
                    fut.set_result(probs[start:start + len(f)])
                start += len(f)
