"""The Django admin, one module per part.

- ``rulesets``: rule sets and rules (weights and switches of a draft);
- ``ruleset_views``: the rule-set admin's own pages (new draft, impact and publish,
  weight changes, rules-file export and import);
- ``records``: reports, share links and demo runs, read-only;
- ``targets``: the Kafka and Artemis clusters live demo runs may use.
"""

from advisor.admin import records, rulesets, targets

__all__ = ["records", "rulesets", "targets"]
