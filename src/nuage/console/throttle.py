"""Failed sign-ins are limited: after ``limit`` failures for one name (access key, or account and user)
from one client address within ``window`` seconds, further attempts are refused (429) until the oldest
failure leaves the window. The failures are counted in the metadata store, so the limit holds across the
worker processes and gateways of a region (and across restarts), whichever one each attempt reaches.

Each attempt is counted as a failure before its password is checked (``admit``) and the count is cleared
when it succeeds: attempts made at once, through any number of processes, cannot all slip under the limit
while the first ones are still being checked."""

from __future__ import annotations

import time

from nuage.storage.meta.console_state import ConsoleState

MAX_NAME = 256   # what is kept of a name typed into the form


class Throttle:
    def __init__(self, state: ConsoleState, limit: int = 10, window: float = 300.0) -> None:
        self.state = state
        self.limit = limit
        self.window = window

    async def admit(self, client: str, name: str) -> bool:
        """Whether an attempt may go on (then it counts as failed until ``succeeded``)."""
        return await self.state.add_failure(client, name[:MAX_NAME], time.time(), self.window, self.limit)

    async def succeeded(self, client: str, name: str) -> None:
        await self.state.clear_failures(client, name[:MAX_NAME])
