"""Metrics and dashboards: one definition per figure, roll-ups, drill-down and export."""
