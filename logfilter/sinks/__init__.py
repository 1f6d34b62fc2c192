"""Where output bytes go: a stream, a file that appears only when complete, or nowhere; and the lock on an output folder."""
