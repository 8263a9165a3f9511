"""HTML views of the cases app: ``portal`` for customers (``console`` for agents)."""
