"""Work docks: my queue, workbench, approvals, timers, alerts, bulk actions."""
