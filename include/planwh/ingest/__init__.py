"""Ingestion: read what the provinces send, check it, load it, keep every file and explain every rejection."""
