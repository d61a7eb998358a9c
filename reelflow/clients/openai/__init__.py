"""openai service client (see client.py)."""
