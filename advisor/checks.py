"""System checks: the question bank and the default rules must load at start-up."""

from django.core import checks

from advisor.engine.bank import default_bank
from advisor.engine.datafiles import DataFileError
from advisor.engine.rules import DEFAULT_RULES_PATH, load_ruleset_file


@checks.register()
def data_files_check(app_configs, **kwargs):
    try:
        bank = default_bank()
        load_ruleset_file(DEFAULT_RULES_PATH, bank=bank)
    except DataFileError as error:
        return [checks.Error(str(error), id="advisor.E001")]
    return []
