"""The system map: who owns each system, what it promises, and every flow through it."""
