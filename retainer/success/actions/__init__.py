"""Every change to sales, onboarding, licenses and success plans, split by sub-domain:
``sales`` (leads, the pipeline, interactions, the handoff, licenses and usage) and
``plans`` (success plans, goals, milestones, ROI and the perception survey),
``proficiency`` (courses, training sessions, enrollments and the training records their
completions write) and ``usage_upload`` (license usage from a CSV file, all rows or
none). The public
names are re-exported here, so callers write ``from retainer.success import actions``.
"""

from retainer.success.actions.plans import *  # noqa: F403  (its __all__)
from retainer.success.actions.proficiency import *  # noqa: F403  (its __all__)
from retainer.success.actions.sales import *  # noqa: F403  (every public name)
from retainer.success.actions.usage_upload import *  # noqa: F403  (its __all__)
