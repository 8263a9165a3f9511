"""The knowledge base: articles, their revisions, search and self-help deflection."""
