"""Inputs: files, stdin and streams, what kind of data they hold, archives and compressed files."""
