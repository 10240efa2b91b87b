"""The scoring engine: plain Python, no Django. Answers and rules in, a Result out.

Modules: ``conditions`` (the declarative condition language), ``answers`` (validation
against the question bank), ``rules`` (rule dataclasses and the rules-file loader),
``scoring`` (scores, verdict and flips). Import from them directly.
"""
