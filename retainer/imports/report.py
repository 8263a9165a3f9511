"""What an import run reports: the rows it created (or would create) and those it rejected,
and the lines the import commands print of it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from retainer.imports.models import ImportRun

#: Rejected rows kept with their reasons; beyond this only their number is.
REJECTED_KEPT = 1000


@dataclass
class Report:
    """What a run created (or would create) and every row it rejected, with why."""

    created: Counter[str] = field(default_factory=Counter)
    rejected: list[dict[str, str]] = field(default_factory=list)
    rejected_count: int = 0

    def reject(self, row: str, column: str, reason: str) -> None:
        self.rejected_count += 1
        if len(self.rejected) < REJECTED_KEPT:
            self.rejected.append({"row": row, "column": column, "reason": reason})


def outcome_lines(run: ImportRun) -> tuple[str, list[str]]:
    """What a finished run made ("created 3 cases, 2 contacts", or "would create …" for a
    dry run), and one line per rejected row kept, then how many more were rejected."""
    verb = "would create" if run.dry_run else "created"
    made = ", ".join(f"{n} {kind}" for kind, n in sorted(run.created.items())) or "nothing"
    lines = [f"rejected {row['row']} {row['column']}: {row['reason']}" for row in run.rejected]
    if run.rejected_count > len(run.rejected):
        lines.append(f"… and {run.rejected_count - len(run.rejected)} more rejected rows")
    return f"{verb} {made}", lines
