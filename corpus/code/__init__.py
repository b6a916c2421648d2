"""Source code: what a file is (language, licence) and whether it belongs in the corpus."""
