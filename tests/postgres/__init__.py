"""Tests of the Postgres adapters beyond the port contracts: RLS, migrations, erasure, embedded server."""
