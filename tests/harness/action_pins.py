"""The actions the generated workflows use, each pinned to the commit its release tag names.

Every SHA was read from a fetched copy of the action's own repository
(`git rev-parse <tag>^{commit}`, 2026-12-02), never typed from memory: a workflow whose pin is not
in this table, or whose `# vX.Y.Z` comment names another tag, fails test_workflows.py. To move an
action to a newer release, fetch its repository, read the tag's commit and change both places.
Each is the newest release tag in its repository and runs on node24 (or is composite): actionlint
flags node20 majors as deprecated.
"""

# action: (tag, commit)
PINS: dict[str, tuple[str, str]] = {
    "actions/checkout": ("v7.0.1", "3d3c42e5aac5ba805825da76410c181273ba90b1"),
    "actions/upload-artifact": ("v7.0.0", "bbbca2ddaa5d8feaa63e36b76fdaad77386f024f"),
    "actions/attest-build-provenance": ("v4.1.0", "a2bbfa25375fe432b6a289bc6b6cd05ecd0c4c32"),
    "astral-sh/setup-uv": ("v10.0.1", "20cfd1bf945f4377ade1205e4dbc17946fc9a30d"),
    "docker/setup-buildx-action": ("v4.3.0", "37fe631027851001ddb9b187196cc803df7f5f0e"),
    "docker/login-action": ("v4.1.0", "4907a6ddec9925e35a0a9e82d7399ccc52663121"),
    "docker/build-push-action": ("v7.3.0", "53b7df96c91f9c12dcc8a07bcb9ccacbed38856a"),
    "sigstore/cosign-installer": ("v4.1.2", "6f9f17788090df1f26f669e9d70d6ae9567deba6"),
    "aquasecurity/trivy-action": ("v0.36.0", "ed142fd0673e97e23eac54620cfb913e5ce36c25"),
}
