"""`logfilter batch`: plan, state, rewrite and execute a sanitized mirror of files, folders and archives."""
