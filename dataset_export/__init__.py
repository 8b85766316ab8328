"""Statewise dataset builder: an export -> supervised v0 training and held-out sets."""
