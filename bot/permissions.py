"""Permission checks for acting on bounces.

With neither ALLOWED_USER_IDS nor ALLOWED_USERGROUP_ID set, everyone in the
workspace may act. Otherwise a user must be listed, or be a member of the user
group (read with usergroups.users.list, cached for five minutes).
"""

from __future__ import annotations

import logging
import threading
import time

from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)

GROUP_CACHE_SECONDS = 300


class Permissions:
    def __init__(self, allowed_users: frozenset[str], usergroup_id: str = "", client=None):
        self.allowed_users = allowed_users
        self.usergroup_id = usergroup_id
        self.client = client
        self._group_members: frozenset[str] = frozenset()
        self._group_loaded_at = 0.0
        self._lock = threading.Lock()

    @property
    def restricted(self) -> bool:
        return bool(self.allowed_users or self.usergroup_id)

    def is_allowed(self, user_id: str) -> bool:
        if not user_id:
            # A payload without a user cannot be attributed, so it may not change anything.
            return False
        if not self.restricted:
            return True
        if user_id in self.allowed_users:
            return True
        if self.usergroup_id:
            return user_id in self._members()
        return False

    def _members(self) -> frozenset[str]:
        with self._lock:
            if time.monotonic() - self._group_loaded_at < GROUP_CACHE_SECONDS:
                return self._group_members
            if self.client is None:
                return self._group_members
            try:
                response = self.client.usergroups_users_list(usergroup=self.usergroup_id)
                self._group_members = frozenset(response.get("users", []))
                self._group_loaded_at = time.monotonic()
                log.info("permissions.group_loaded usergroup=%s members=%d", self.usergroup_id, len(self._group_members))
            except SlackApiError as error:
                # Keep the last known members; an empty set denies everyone but listed users.
                log.error("permissions.group_load_failed usergroup=%s error=%s",
                          self.usergroup_id, error.response.get("error") if error.response else error)
            return self._group_members

    @staticmethod
    def denial_text() -> str:
        return ("You are not allowed to act on bounces in Bounce Desk, so nothing was changed. "
                "Ask an admin to add your Slack user ID to ALLOWED_USER_IDS or to the allowed user group.")
