"""spotify service client (see client.py)."""
