"""Every change to a case. Each action is atomic and records typed ``CaseEvent`` rows
(``cases/events.py``) with their outbox messages; ``checks`` holds the one rule per
operation that every door (console, portal, API) calls.

Ledger movements go through ``retainer.contracts.actions`` with keys derived from
their source, so a replayed or retried action never consumes twice:
``case:<id>:incident:v<n>`` for incidents and ``time-entry:<id>:v<n>`` for time.
"""

from retainer.cases.actions.checks import (
    authorize_answer_csat,
    authorize_change_time,
    authorize_link_defect,
    authorize_log_time,
    authorize_open_case,
    authorize_override_decision,
    authorize_reply,
    authorize_transition,
    authorize_update_case,
    check_answer_csat,
    check_delete_time_entry,
    check_link_defect,
    check_log_time,
    check_open_case,
    check_override_decision,
    check_reply,
    check_start_timer,
    check_stop_timer,
    check_transition_case,
    check_update_case,
    check_update_time_entry,
    plan_open_case,
)
from retainer.cases.actions.clocks import do_scan_sla_clocks
from retainer.cases.actions.common import (
    CONSUMING_OUTCOMES,
    CSAT_SALT,
    INTAKE_RELATIONS,
    lock_case,
)
from retainer.cases.actions.consumption import consume_incident, credit_incident
from retainer.cases.actions.conversation import (
    Reply,
    do_add_attachment,
    do_add_message,
    do_reply,
)
from retainer.cases.actions.defects import (
    do_create_defect,
    do_link_defect,
    do_set_defect_fix_release,
)
from retainer.cases.actions.intake import IntakePlan, do_open_case, plan_intake
from retainer.cases.actions.satisfaction import case_for_csat_token, csat_token, do_answer_csat
from retainer.cases.actions.settings import *  # noqa: F403  (SLA settings, defects: its __all__)
from retainer.cases.actions.timekeeping import (
    do_delete_time_entry,
    do_log_time,
    do_start_timer,
    do_stop_timer,
    do_update_time_entry,
)
from retainer.cases.actions.transitions import (
    AGENT_FIELDS,
    do_override_case_decision,
    do_transition_case,
    do_update_case,
)

__all__ = [
    "AGENT_FIELDS",
    "CONSUMING_OUTCOMES",
    "CSAT_SALT",
    "INTAKE_RELATIONS",
    "IntakePlan",
    "Reply",
    "authorize_answer_csat",
    "authorize_change_time",
    "authorize_link_defect",
    "authorize_log_time",
    "authorize_open_case",
    "authorize_override_decision",
    "authorize_reply",
    "authorize_transition",
    "authorize_update_case",
    "case_for_csat_token",
    "check_answer_csat",
    "check_delete_time_entry",
    "check_link_defect",
    "check_log_time",
    "check_open_case",
    "check_override_decision",
    "check_reply",
    "check_start_timer",
    "check_stop_timer",
    "check_transition_case",
    "check_update_case",
    "check_update_time_entry",
    "consume_incident",
    "credit_incident",
    "csat_token",
    "do_add_attachment",
    "do_add_message",
    "do_answer_csat",
    "do_create_defect",
    "do_delete_time_entry",
    "do_link_defect",
    "do_log_time",
    "do_open_case",
    "do_override_case_decision",
    "do_reply",
    "do_scan_sla_clocks",
    "do_set_defect_fix_release",
    "do_start_timer",
    "do_stop_timer",
    "do_transition_case",
    "do_update_case",
    "do_update_time_entry",
    "lock_case",
    "plan_intake",
    "plan_open_case",
]
