"""Monitoring on the native stack: Prometheus with the pipeline's alert rules, the blackbox
exporter probing the servers, Alertmanager, and the receiver that writes alerts to a file.
docs/operations.md ("Alerts") says what each alert means and what to do."""
