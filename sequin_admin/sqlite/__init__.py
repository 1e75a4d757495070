"""Django's SQLite backend, with this process's writers queued on a lock (see base.py)."""
