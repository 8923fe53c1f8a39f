"""The durable write path: a transactional outbox, its dispatcher, dead letters and replay."""
