"""The demo's secret key: generated once, kept in the var directory."""

from __future__ import annotations

import secrets
from pathlib import Path


def demo_secret_key(var_dir: Path) -> str:
    """Return the key stored in ``var_dir/secret_key``, creating it on first use."""
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    # Written with owner-only permissions; O_EXCL keeps two starting processes from
    # each writing a different key.
    try:
        fd = path.open("x")
    except FileExistsError:
        return path.read_text().strip()
    with fd:
        path.chmod(0o600)
        fd.write(key)
    return key
