"""`python -m logfilter` runs the command line."""

from logfilter.cli import entry

entry()
