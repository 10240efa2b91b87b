"""The Django admin, one module per part.

- ``rulesets``: rule sets and rules (weights and switches of a draft);
- ``ruleset_views``: the rule-set admin's own pages (new draft, impact and publish,
  weight changes, rules-file export and import);
- ``records``: reports, share links and demo runs, read-only.
"""

from advisor.admin import records, rulesets

__all__ = ["records", "rulesets"]
