"""`python -m <package> APP [uvicorn options]`: uvicorn's own command line, as `make run` starts it.

Why not `uvicorn` itself: after a SIGTERM it drains the in-flight requests, restores the SIGTERM
handler it found and raises the signal again, so the process dies of it (status 143) and
`make run` reports a clean stop as an error. Started here, the handler it finds exits 0, and a
server that fails keeps its own status. The container runs `uvicorn` directly (Dockerfile): as
PID 1 nobody reads its status.
"""

import signal
import sys
from types import FrameType

import uvicorn


def _stopped(signum: int, frame: FrameType | None) -> None:
    sys.exit(0)


def main() -> None:
    signal.signal(signal.SIGTERM, _stopped)
    uvicorn.main()


if __name__ == "__main__":
    main()
