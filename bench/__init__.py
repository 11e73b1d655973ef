"""The load benchmark: ``python -m bench`` (``make bench``)."""
