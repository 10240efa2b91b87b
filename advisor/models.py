"""The advisor app's models, defined in its parts (app label "advisor" for all).

Django finds an app's models through this module; each part owns its own.
"""

from advisor.demoruns.models import BrokerTarget, DemoRun
from advisor.reports.models import Report, ShareLink
from advisor.rulesets.models import Rule, RuleSet

__all__ = ["BrokerTarget", "DemoRun", "Report", "Rule", "RuleSet", "ShareLink"]
