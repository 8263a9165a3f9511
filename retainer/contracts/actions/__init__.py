"""Every change to plans, contracts, the ledger, decisions and training records.

Each action is atomic and records what happened: ledger movements are their own
append-only rows; everything else writes a typed event (``contracts/events.py``) with
its outbox message. Functions that lock a contract row say so; they take the lock
through ``lock_contract`` only. Who may call them from a door is ``contracts/checks.py``.
"""

from retainer.contracts.actions.common import (
    MAX_KEY_LENGTH,
    Movement,
    lock_contract,
)
from retainer.contracts.actions.decisions import (
    decide_for,
    decision_json,
    do_certify_training,
    do_override_decision,
    do_record_decision,
    do_record_training,
)
from retainer.contracts.actions.lifecycle import (
    allowed_transitions,
    do_announce_expiring_contracts,
    do_cancel_contract,
    do_expire_contract,
    do_renew_contract,
    expire_unused,
)
from retainer.contracts.actions.movements import (
    append_entry,
    check_key,
    consume_locked,
    do_adjust_balance,
    do_consume,
    do_reverse_entry,
    do_top_up,
    existing_entry,
    grant_term,
    require_active,
    source_links,
)
from retainer.contracts.actions.plans import (
    checked_terms,
    do_create_plan,
    do_create_plan_version,
)
from retainer.contracts.actions.sales import (
    check_named_contacts,
    clean_name,
    contract_name,
    contract_terms,
    do_create_contract,
    do_rename_contract,
    do_set_named_contacts,
    product_prices,
)

__all__ = [
    "MAX_KEY_LENGTH",
    "Movement",
    "allowed_transitions",
    "append_entry",
    "check_key",
    "check_named_contacts",
    "checked_terms",
    "clean_name",
    "consume_locked",
    "contract_name",
    "contract_terms",
    "decide_for",
    "decision_json",
    "do_adjust_balance",
    "do_announce_expiring_contracts",
    "do_cancel_contract",
    "do_certify_training",
    "do_consume",
    "do_create_contract",
    "do_create_plan",
    "do_create_plan_version",
    "do_expire_contract",
    "do_override_decision",
    "do_record_decision",
    "do_record_training",
    "do_rename_contract",
    "do_renew_contract",
    "do_reverse_entry",
    "do_set_named_contacts",
    "do_top_up",
    "existing_entry",
    "expire_unused",
    "grant_term",
    "lock_contract",
    "product_prices",
    "require_active",
    "source_links",
]
