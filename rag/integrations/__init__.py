"""Adapters to other frameworks; they stay at the edge of the library."""
