"""`python -m <package> APP [uvicorn options]`: uvicorn's own command line, as `make run` starts it.

Why not `uvicorn` itself: after a SIGTERM it drains the in-flight requests, restores the SIGTERM
handler it found and raises the signal again, so the process dies of it (status 143) and
`make run` reports a clean stop as an error. Started here, the handler it finds exits 0, and a
server that fails keeps its own status. The container runs `uvicorn` directly (Dockerfile): as
PID 1 nobody reads its status.

uvicorn takes X-Forwarded-For only from the proxies FORWARDED_ALLOW_IPS names, a variable it reads
itself (the container's environment has it); Settings reads it from .env too, so its value is
handed on here: one setting, checked once, whichever way it was given.
"""

import os
import signal
import sys
from types import FrameType

import uvicorn

from .settings import load_settings


def _stopped(signum: int, frame: FrameType | None) -> None:
    sys.exit(0)


def main() -> None:
    signal.signal(signal.SIGTERM, _stopped)
    os.environ["FORWARDED_ALLOW_IPS"] = load_settings().forwarded_allow_ips
    uvicorn.main()


if __name__ == "__main__":
    main()
