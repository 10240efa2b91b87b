"""Session keys out of the database: owner_session holds a keyed hash of the key.

Existing rows held the raw session key (40 characters at most); each becomes its
HMAC-SHA256 with SECRET_KEY, as advisor.security.fingerprint computes it, so the limits
and ownership checks keep matching the same sessions. A fingerprint (64 hex characters)
is never converted twice: only values of 40 characters or fewer are raw keys.
"""

from django.db import migrations, models
from django.utils.crypto import salted_hmac

# advisor.security.FINGERPRINT_SALT, copied: a migration must not change with the code.
FINGERPRINT_SALT = "advisor.owner_session"
RAW_KEY_MAX_LENGTH = 40


def fingerprint(value):
    return salted_hmac(FINGERPRINT_SALT, value, algorithm="sha256").hexdigest()


def hash_session_keys(apps, schema_editor):
    for model_name in ("Report", "DemoRun"):
        model = apps.get_model("advisor", model_name)
        raw = (
            model.objects.exclude(owner_session="")
            .filter(owner_session__regex=r"^.{1,%d}$" % RAW_KEY_MAX_LENGTH)
            .values_list("owner_session", flat=True)
            .distinct()
        )
        for key in list(raw.iterator()):
            model.objects.filter(owner_session=key).update(owner_session=fingerprint(key))


class Migration(migrations.Migration):
    dependencies = [
        ("advisor", "0007_fill_report_matched_rules"),
    ]

    operations = [
        migrations.AddField(
            model_name="demorun",
            name="owner_client",
            field=models.CharField(blank=True, db_index=True, max_length=64),
        ),
        migrations.AlterField(
            model_name="demorun",
            name="owner_session",
            field=models.CharField(blank=True, db_index=True, max_length=64),
        ),
        migrations.AlterField(
            model_name="report",
            name="owner_session",
            field=models.CharField(blank=True, db_index=True, max_length=64),
        ),
        # Forwards only: the raw keys cannot be recovered from their hashes.
        migrations.RunPython(hash_session_keys, migrations.RunPython.noop),
    ]
