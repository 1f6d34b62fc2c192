"""The caller's identity outside KV blocks: attribute lines and SIP messages, as identity rules read them."""
