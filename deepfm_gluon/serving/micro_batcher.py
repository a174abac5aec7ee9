"""Micro-batching: rows from concurrent requests scored in one model call.

One call for 100 rows costs little more than one for 1 row, so a server that
scores each request alone wastes most of its time on per-call overhead. Each
request puts its input on an asyncio queue; one task takes what is waiting
(up to ``max_rows`` rows, waiting at most ``max_wait_s`` for more), scores
it in a worker thread (the event loop keeps accepting requests meanwhile) and
hands each request its own outcome, in order.
"""
import asyncio


class MicroBatcher:
    """``await submit(rows)`` -> that request's probabilities.

    ``score``: a list of requests' inputs (each a sized sequence of rows) ->
    a list, one outcome per request: its float (n,) probabilities, or the
    exception that request alone gets (a bad value in one request must not
    fail its neighbours). It runs in ``executor``; if it raises, every request
    of the batch gets that error (the engine failed, not a request).
    A request larger than ``max_rows`` is scored alone, never split.
    """

    def __init__(self, score, executor, max_rows=2048, max_wait_s=0.002):
        self.score, self.executor = score, executor
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

    async def submit(self, rows):
        """rows: one request's n rows (whatever ``score`` takes) -> float (n,)
        its click probabilities once its batch has run, or that request's error."""
        future = asyncio.get_running_loop().create_future()
        await self.queue.put((rows, future))
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
            live = [(rows, fut) for rows, fut in batch if not fut.done()]  # a client may have gone
            if not live:
                continue
            try:
                outcomes = await loop.run_in_executor(self.executor, self.score, [r for r, _ in live])
            except Exception as err:  # noqa: BLE001 - every waiting request gets the error
                outcomes = [err] * len(live)
            else:
                self.batches += 1
                self.rows += sum(len(o) for o in outcomes if not isinstance(o, BaseException))
            for (_, fut), outcome in zip(live, outcomes):
                if fut.done():
                    continue
                if isinstance(outcome, BaseException):
                    fut.set_exception(outcome)
                else:
                    fut.set_result(outcome)
