"""Live checks against Azure.

- ``arm``: the one Azure Resource Manager client every live check uses (credential, retries,
  paging, errors as ``LiveCheckError``).
- ``quota``: GPU quota per region from the Compute usages API.
- ``probe``: workload identity, step by step, from inside a pod.

Nothing is imported here, so ``import rayfleet`` never pulls in azure-identity.
"""
