"""Harness Artifact Registry knowledge: hosts, URL layout, PAT/SAT tokens, token API."""
