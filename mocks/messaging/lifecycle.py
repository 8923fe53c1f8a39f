"""After a send: walk the message through its statuses and post a callback at each one.

Each message gets one background task, so its callbacks leave in order (unless the
``reorder`` chaos says otherwise) and a slow receiver delays only that message. Random
choices (drops, duplicates) come from one seeded ``random.Random``, reseeded on reset, so a
run replays; with several messages in flight, their draws interleave in arrival order.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from mocks.messaging.addresses import DELAYED_FAILURES
from mocks.messaging.callbacks import Callback, CallbackLog, CallbackSender, CallbackSettings
from mocks.messaging.store import API_VERSION, Message, MessageStore

__all__ = ["DeliverySimulator", "Step", "callback_params", "timeline"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Step:
    after_s: float  # since the message was created
    status: str
    error: tuple[int, str] | None = None


def timeline(number: str, settings: CallbackSettings, *, via_service: bool) -> list[Step]:
    """The statuses a message to ``number`` goes through (the first is its status at once)."""
    steps = [Step(0.0, "accepted")] if via_service else []
    steps.append(Step(0.0, "queued"))
    sent_s, final_s = settings.sent_after_ms / 1000, settings.final_after_ms / 1000
    failure = DELAYED_FAILURES.get(number)
    error = None if failure is None else (failure.error_code, failure.error_message)
    if failure is not None and failure.final_status == "failed":
        return [*steps, Step(sent_s, "failed", error)]
    steps.append(Step(sent_s, "sent"))
    if failure is not None:
        return [*steps, Step(final_s, "undelivered", error)]
    return [*steps, Step(final_s, "delivered")]


def callback_params(message: Message) -> dict[str, str]:
    """The form fields of Twilio's message status callback."""
    params = {
        "AccountSid": message.account_sid,
        "ApiVersion": API_VERSION,
        "From": message.from_ or "",
        "MessageSid": message.sid,
        "MessageStatus": message.status,
        "SmsSid": message.sid,
        "SmsStatus": message.status,
        "To": message.to,
    }
    if message.messaging_service_sid:
        params["MessagingServiceSid"] = message.messaging_service_sid
    if message.error_code is not None:
        params["ErrorCode"] = str(message.error_code)
    return params


class DeliverySimulator:
    def __init__(
        self,
        store: MessageStore,
        auth_token: str,
        *,
        seed: int,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
    ) -> None:
        self.store = store
        self.log = CallbackLog()
        self.sender = CallbackSender(auth_token, self.log, sleep)
        self.settings = CallbackSettings()
        self._seed = seed
        self._rng = random.Random(self._rng_seed)
        self._clock = clock
        self._sleep = sleep
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def _rng_seed(self) -> str:
        return f"{self._seed}:messaging:callbacks"

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        await self.sender.open()

    async def stop(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.sender.close()

    def reset(self) -> None:
        """Forget everything; may be called from a worker thread (sync control endpoints)."""
        self.settings = CallbackSettings()
        self._rng = random.Random(self._rng_seed)
        self.log.clear()  # bumps the generation, so walks still running go quiet
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._cancel_all)

    def _cancel_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    def begin(self, message: Message, steps: list[Step]) -> None:
        """Start the walk; must run on the server's event loop (an async route)."""
        task = asyncio.create_task(self._walk(message, steps, self.settings, self.log.generation))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _walk(
        self, message: Message, steps: list[Step], settings: CallbackSettings, generation: int
    ) -> None:
        try:
            await self._run_steps(message, steps, settings, generation)
        except Exception:  # a background task has no caller to raise to
            log.exception("status walk of %s failed", message.sid)

    async def _run_steps(
        self, message: Message, steps: list[Step], settings: CallbackSettings, generation: int
    ) -> None:
        started = self._clock()
        held: Callback | None = None
        for index, step in enumerate(steps):
            wait = step.after_s - (self._clock() - started)
            if wait > 0:
                await self._sleep(wait)
            if generation != self.log.generation:
                return
            self.store.set_status(message, step.status, error=step.error)
            if not message.status_callback:
                continue
            callback = Callback(
                message.sid, step.status, message.status_callback, callback_params(message)
            )
            if settings.reorder and index == len(steps) - 2:
                held = replace(callback, reordered=True)
                continue
            await self._deliver(callback, settings, generation)
        if held is not None:
            await self._deliver(held, settings, generation)

    async def _deliver(
        self, callback: Callback, settings: CallbackSettings, generation: int
    ) -> None:
        # Draw both numbers every time, so one setting never shifts the other's sequence.
        dropped = self._rng.random() < settings.drop_rate
        duplicated = self._rng.random() < settings.duplicate_rate
        if settings.delay_ms:
            await self._sleep(settings.delay_ms / 1000)
        if dropped:
            self.sender.drop(callback, generation)
            return
        await self.sender.send(callback, settings, generation)
        if duplicated:
            await self.sender.send(replace(callback, duplicated=True), settings, generation)
