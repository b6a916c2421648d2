"""GitHub issues, pull requests and commits as mid-training threads."""
