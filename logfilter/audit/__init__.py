"""Read-only commands: scan (leaks in clear), keys (the key inventory), preview (before and after)."""
