"""SIGINT/SIGTERM during training: set a flag, let the loop checkpoint and stop.

A second SIGINT while the first is being handled raises KeyboardInterrupt at once.
Handlers are installed only in the main thread and restored after the run.
"""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

log = logging.getLogger(__name__)


def install(target: Any) -> dict[int, Any]:
    """Point SIGINT and SIGTERM at a handler that sets ``target.signal_flag``; returns
    the previous handlers (empty outside the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        return {}

    def handler(signum: int, frame: Any) -> None:
        if target.signal_flag:  # asked twice: stop now
            raise KeyboardInterrupt
        target.signal_flag = True
        log.warning("signal %d: stopping after this step", signum)

    return {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}


def restore(old: dict[int, Any]) -> None:
    for sig, h in old.items():
        signal.signal(sig, h)
