"""The caller's identity outside KV blocks: attribute lines and SIP messages, read for [log-filter-attributes] / [log-filter-sip]."""
