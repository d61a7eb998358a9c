"""runware service client (see client.py)."""
