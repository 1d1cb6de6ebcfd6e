"""Tests of the pledges service."""
