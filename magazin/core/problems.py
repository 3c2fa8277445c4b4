"""Problems found in a SIP or a stored copy, reported with file, reason and a stable code."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one path: what the user reads and what scripts match on."""

    path: str
    reason: str
    code: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


class RejectedSIP(Exception):
    """A SIP that failed a check; carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("; ".join(f"{p.path}: {p.reason} [{p.code}]" for p in self.problems))


class ProblemList:
    """Collects problems while a check goes on, then raises them together."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, path: str, reason: str, code: str) -> None:
        self.items.append(Problem(path, reason, code))

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise RejectedSIP(self.items)
