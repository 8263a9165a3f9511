"""The one place that declares periodic schedules.

Schedules fire in every huey consumer that runs the scheduler, so exactly one consumer may
run without ``-n`` (see docs/operations.md); declaring them all here keeps that promise
checkable in one file. The module is loaded by the consumer (``retainer.lib.jobs``), not by
web processes.

The SLA clock scan, renewal quotes and the monthly billing run are here. A
periodic job does little itself: it enqueues or performs idempotent work, so a schedule
that fires late, or twice after a consumer restart, does no harm.

Crontab times are in UTC (``HUEY["utc"] = True``).
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from huey import crontab
from huey.api import PeriodicTask, Task
from huey.contrib.djhuey import HUEY, db_periodic_task
from huey.signals import SIGNAL_COMPLETE, SIGNAL_ERROR, SIGNAL_EXECUTING

from retainer.lib.jobs import note_periodic_run, prune_job_results

#: How long the status of a finished job stays readable through ``get_result``.
JOB_RESULT_RETENTION = timedelta(days=7)


@db_periodic_task(crontab(minute="17", hour="3"))
def prune_job_results_task() -> int:
    """Daily: forget the status records of jobs finished more than a week ago."""
    return prune_job_results(HUEY, now=timezone.now(), older_than=JOB_RESULT_RETENTION)


@db_periodic_task(crontab(minute="*"))
def worker_heartbeat_task() -> None:
    """Every minute: tell ``/healthz`` that a worker runs jobs."""
    from retainer.lib.health import beat

    beat()


@HUEY.signal(SIGNAL_EXECUTING, SIGNAL_COMPLETE, SIGNAL_ERROR)
def remember_periodic_run(signal: str, task: Task, exc: BaseException | None = None) -> None:
    """Keep each periodic job's last run (start, end, outcome, error) for the console's
    Operations page."""
    if not isinstance(task, PeriodicTask):
        return
    outcome = {SIGNAL_EXECUTING: "running", SIGNAL_COMPLETE: "succeeded"}.get(signal, "failed")
    error = "" if exc is None else f"{type(exc).__name__}: {exc}"
    note_periodic_run(HUEY, task.name, outcome=outcome, error=error, now=timezone.now())


@HUEY.on_startup()
def note_worker_started() -> None:
    """A consumer that just started is alive before its first minute has passed."""
    from retainer.lib.health import beat

    beat()


@db_periodic_task(crontab(minute="*/5"))
def retry_failed_jobs_task() -> int:
    """Every five minutes: run failed jobs again, up to three runs in all; then they stay
    failed on the console's Operations page."""
    from retainer.lib.jobs import retry_failed_jobs

    return retry_failed_jobs(HUEY)


@db_periodic_task(crontab(minute="*"))
def sweep_outbox_task() -> int:
    """Every minute: deliver outbox messages whose dispatch job was lost or is due for a
    retry (the job enqueued after each commit does the usual work). Clears the
    dispatch-queued flag too, in case the job it stands for was lost."""
    from retainer.lib.jobs import job_started
    from retainer.lib.outbox import dispatch
    from retainer.lib.tasks import DISPATCH_QUEUED

    job_started(DISPATCH_QUEUED)
    return dispatch()


@db_periodic_task(crontab(minute="*"))
def scan_sla_clocks_task() -> dict[str, int]:
    """Every minute: one warning and one breach event per SLA clock that reached them."""
    from retainer.cases.actions import do_scan_sla_clocks

    return do_scan_sla_clocks()


@db_periodic_task(crontab(minute="30", hour="2"))
def generate_renewal_quotes_task() -> int:
    """Daily: quote the renewal of contracts ending within the next 60 days (once each)."""
    from retainer.billing.checks import check_generate_renewal_quotes

    return len(check_generate_renewal_quotes(None))


@db_periodic_task(crontab(minute="35", hour="2"))
def announce_expiring_contracts_task() -> int:
    """Daily: publish ``contract.expiring`` for active contracts ending within
    ``RETAINER_CONTRACT_EXPIRING_DAYS`` (once per contract and end date; rules with the
    *Contract expiring* trigger react to it, docs/automation.md)."""
    from retainer.contracts.actions import do_announce_expiring_contracts

    return len(do_announce_expiring_contracts(today=timezone.localdate()))


@db_periodic_task(crontab(minute="40", hour="2"))
def expire_service_quotes_task() -> int:
    """Daily: mark sent services quotes past their last valid day expired (acceptance
    refuses them anyway; this keeps the lists true)."""
    from retainer.billing.services import do_expire_service_quotes

    return do_expire_service_quotes()


@db_periodic_task(crontab(minute="50", hour="2"))
def refresh_support_rollups_task() -> int:
    """Daily: recompute the support roll-ups of the cases touched in the last
    ``ROLLUP_REFRESH_DAYS`` days, catching anything the event upkeep could not see (a
    renamed product, a changed time zone). Returns the cases recomputed."""
    from retainer.metrics.rollups import ROLLUP_REFRESH_DAYS, rebuild

    return rebuild(since=timezone.now() - timedelta(days=ROLLUP_REFRESH_DAYS)).cases


@db_periodic_task(crontab(minute="0", hour="14", day="1"))
def bill_previous_month_task() -> int:
    """On the 1st (14:00 UTC, once the month has ended in every customer's time zone):
    start billing for the month that just ended, the way every door starts a run (the
    job worker executes it). Returns the run's id. Running it twice bills nothing twice."""
    import datetime as dt

    from retainer.billing.checks import check_start_billing_run
    from retainer.billing.rules import period_of

    last_month = period_of(timezone.localdate() - dt.timedelta(days=1))
    return check_start_billing_run(None, period=last_month).pk


@db_periodic_task(crontab(minute="*/5"))
def resume_billing_runs_task() -> list[int]:
    """Every five minutes: hand billing runs whose job was lost (a killed consumer) to the
    workers again; they continue where they stopped."""
    from retainer.billing.actions import do_resume_interrupted_billing_runs

    return do_resume_interrupted_billing_runs()


@db_periodic_task(crontab(minute="*"))
def poll_mailboxes_task() -> int:
    """Every minute: take new messages from the spool mailboxes and process any message
    left unprocessed (docs/mail.md)."""
    from retainer.mail.polling import poll_mailboxes

    return poll_mailboxes()


@db_periodic_task(crontab(minute="*"))
def send_mail_task() -> int:
    """Every minute: send queued e-mails that are due (retries after back-off, and those
    whose job was lost)."""
    from retainer.mail.actions import send_due_mail

    return send_due_mail()


@db_periodic_task(crontab(minute="*/10"))
def prune_api_rate_counters_task() -> int:
    """Every ten minutes: delete the API rate counters of windows that have ended
    (docs/api.md, "Rate limits")."""
    from retainer.accounts.ratelimit import do_prune_api_rate_counters

    return do_prune_api_rate_counters()


# --- automation (begin) -----------------------------------------------------------------------
@db_periodic_task(crontab(minute="*"))
def send_due_webhooks_task() -> int:
    """Every minute: send webhook deliveries that are due (retries after back-off, and
    first attempts whose job was lost); docs/automation.md."""
    from retainer.automation.tasks import send_due_webhooks

    return send_due_webhooks()


@db_periodic_task(crontab(minute="*/5"))
def run_time_rules_task() -> int:
    """Every five minutes: fire the rules "case in a status for N business hours" on the
    cases that reached it, once per rule, case and stint (docs/automation.md)."""
    from retainer.automation.tasks import run_time_rules

    return run_time_rules()


# --- automation (end) -------------------------------------------------------------------------


@db_periodic_task(crontab(minute="17"))
def queue_waiting_reminders_task() -> int:
    """Every hour: remind customers of cases waiting on them for three days, once per
    stint (docs/mail.md)."""
    from retainer.mail.notifications import queue_waiting_reminders

    return queue_waiting_reminders()
