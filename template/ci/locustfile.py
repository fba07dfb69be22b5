"""What `make load` sends: Locust users mixing health probes, reads and writes of the example API.

The mix is a rough guess at a real client's (mostly reads); change the weights, and add your own
endpoints, when the service grows. Each write cleans up after itself (create, read, delete), so a
load test leaves the database as it found it and names never collide (409) between users.

Writes need an admin. LOAD_AUTHORIZATION, when set, is sent as the Authorization header (a token
for a deployed service); otherwise ci/credentials.py signs an admin in on the service this machine
serves (its database is the one DATABASE_URL names), once for the whole run.
"""

import os
import sys
import uuid
from pathlib import Path
from typing import Any

from locust import HttpUser, between, events, task

# Locust puts the locustfile's directory on sys.path, not the project's: ci.credentials needs it.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from ci.credentials import admin_headers

ITEMS = "/api/v1/items"
HEADERS: dict[str, str] = {}


def sign_in(environment: Any, **_: Any) -> None:
    authorization = os.environ.get("LOAD_AUTHORIZATION")
    if authorization:
        HEADERS["Authorization"] = authorization
    else:
        HEADERS.update(admin_headers(environment.host, dict(os.environ)))


# Once, before the first user starts (locust does not annotate its event hooks).
events.test_start.add_listener(sign_in)  # type: ignore[no-untyped-call]


class ServiceUser(HttpUser):
    # A short think time: enough users to measure latency, not to find the breaking point.
    wait_time = between(0.05, 0.2)

    def on_start(self) -> None:
        self.client.headers.update(HEADERS)

    @task(2)
    def probes(self) -> None:
        self.client.get("/health/live")
        self.client.get("/health/ready")

    @task(6)
    def list_items(self) -> None:
        self.client.get(ITEMS, params={"limit": 20, "sort": "-created_at"}, name=ITEMS)

    @task(2)
    def create_read_delete(self) -> None:
        body = {"name": f"load {uuid.uuid4().hex}", "price_cents": 1999, "quantity": 1}
        with self.client.post(ITEMS, json=body, catch_response=True) as created:
            if created.status_code != 201:
                created.failure(f"create answered {created.status_code}")
                return
            item_id = created.json()["id"]
        # One name for every id, so the statistics have one row per operation, not per item.
        self.client.get(f"{ITEMS}/{item_id}", name=f"{ITEMS}/{{item_id}}")
        self.client.delete(f"{ITEMS}/{item_id}", name=f"{ITEMS}/{{item_id}}")
