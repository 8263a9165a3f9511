"""The metrics app's step of the demo: the support roll-ups of the demo's cases.

Most demo cases are inserted in bulk, with events written the same way, so the step
computes the roll-ups from the cases once, the way ``manage.py rebuild_metrics`` does,
after every step that writes cases. The worker's first minutes then deliver the opening
events to the roll-ups' subscriber again, which recomputes each case's share to the same
figures.
"""

from __future__ import annotations

from retainer.lib.demo import DemoContext
from retainer.metrics import rollups


def build(ctx: DemoContext) -> None:
    result = rollups.rebuild()
    ctx.log(f"  support roll-ups: {result.cases} cases, {result.rows} rows")
