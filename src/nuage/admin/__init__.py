"""The operator's JSON admin API (tenants, their first keys, quotas, usage), signed with SigV4."""
