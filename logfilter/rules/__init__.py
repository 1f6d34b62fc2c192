"""The rules: option text read into a Policy, filter types, detectors, hashing, the compiled lookup, rules that match nothing."""
