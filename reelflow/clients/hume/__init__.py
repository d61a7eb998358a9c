"""hume service client (see client.py)."""
