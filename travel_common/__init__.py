"""Pieces shared by the gateway and the services: ids, wire errors, logging."""
