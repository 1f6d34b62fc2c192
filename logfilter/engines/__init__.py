"""The walk of a log: the walker (blocks, lists, open values, failing closed) and what it hands each pair to."""
