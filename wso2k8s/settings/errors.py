"""Settings errors that say which key, which layer, what is wrong and how to fix it."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    key: str  # dotted key as the user spells it, e.g. clustering.kubernetes.services
    layer: str  # file or stack config that set it (or should set it)
    message: str
    fix: str

    def __str__(self) -> str:
        stop = "" if self.message.endswith(("?", ".")) else "."
        return f"{self.key} ({self.layer}): {self.message}{stop} Fix: {self.fix}."


class SettingsError(Exception):
    """Raised before any resource is registered; carries every problem found, not just the first."""

    def __init__(self, problems: Iterable[Problem]):
        # once each: a stack-wide setting (database, say) is checked with every profile and would repeat
        self.problems = list(dict.fromkeys(problems))
        super().__init__(self.render())

    def render(self) -> str:
        count = len(self.problems)
        head = f"wso2-kubernetes: {count} problem{'s' if count != 1 else ''} in the settings; nothing was created:"
        return "\n".join([head, *(f"  - {p}" for p in self.problems)])


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" Did you mean '{close[0]}'?" if close else ""
