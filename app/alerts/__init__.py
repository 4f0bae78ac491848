"""Alert intake: Prometheus Alertmanager and Grafana send their webhooks to a board, and each
firing alert becomes (or, by its fingerprint, updates) an incident card in Expedite."""
