"""What one line is made of: the grammar, the Lark reference parser, the regex parser, event starts."""
