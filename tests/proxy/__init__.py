"""Tests through the shipped nginx config, in front of two app hosts on one PostgreSQL."""
