"""Errors about a pack, each with the fix; the settings layer turns them into Problems with a key and layer."""

from __future__ import annotations


class FixableError(Exception):
    def __init__(self, message: str, fix: str):
        super().__init__(message)
        self.message, self.fix = message, fix


class PackError(FixableError):
    """The pack is not what the settings say (missing, malformed, another product or version)."""


class RenderError(FixableError):
    """A conf file of the pack lacks an element the settings must set."""
