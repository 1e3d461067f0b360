"""Bounds on the numbers users and RPC clients give the addon, checked in one way everywhere."""

from odoo.exceptions import ValidationError

# No shelf life, threshold or horizon is longer than a century: a larger number is a typing
# error, and dates computed from it would overflow.
MAX_DAYS = 36_500


def check_day_counts(records, *field_names):
    """Raise a ValidationError naming the record and field when a day count is negative or absurd."""
    for record in records:
        for fname in field_names:
            value = record[fname]
            if value and not 0 <= value <= MAX_DAYS:
                field = record._fields[fname]
                raise ValidationError(
                    record.env._(
                        "%(field)s of %(record)s is %(value)s days: it must be between 0 and %(max)s.",
                        field=field._description_string(record.env),
                        record=record.display_name,
                        value=value,
                        max=MAX_DAYS,
                    )
                )
