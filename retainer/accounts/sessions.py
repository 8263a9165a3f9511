"""The session store: Django's database sessions, read with a statement compiled once.

Every signed-in request reads its session first; through the ORM that read cost more
than the rest of a small page (``lib/compiled.py``). Expiry is checked on the row read
by key, with the same outcome as Django's ``expire_date > now`` filter: an expired or
unknown key is an empty session under a new key.
"""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.utils import timezone

from retainer.lib import compiled

_BY_KEY = compiled.Select[Session](lambda key: Session.objects.filter(session_key=key))


class SessionStore(db.SessionStore):
    def _get_session_from_db(self) -> Any:
        key = self.session_key
        found = _BY_KEY.first(key) if isinstance(key, str) else None
        if found is None or found.expire_date <= timezone.now():
            self._session_key = None
            return None
        return found
