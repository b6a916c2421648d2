"""Bundled sample data: a deterministic WARC of pages the project wrote itself."""
