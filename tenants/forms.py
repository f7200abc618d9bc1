"""Tenant admin forms."""

from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from core.i18n import _, _l
from core.text import SingleLine
from core.timezones import valid_zone, zone_names


def _known_zone(form, field) -> None:
    if not valid_zone(field.data):
        raise ValidationError(_("Choose a time zone from the list."))


class TenantSettingsForm(FlaskForm):
    name = StringField(_l("Organisation name"), validators=[InputRequired(), Length(max=200), SingleLine()])
    sender_name = StringField(_l("Sender name in emails"), validators=[Optional(), Length(max=200), SingleLine()])
    max_upload_mb = IntegerField(_l("Largest PDF (MB)"), validators=[InputRequired(), NumberRange(1, 100)])
    reminder_interval_days = IntegerField(
        _l("Remind unsigned parties every (days)"), validators=[InputRequired(), NumberRange(1, 60)]
    )
    reminder_max = IntegerField(_l("At most this many reminders"), validators=[InputRequired(), NumberRange(0, 20)])
    expiry_days = IntegerField(_l("Cases expire after (days)"), validators=[InputRequired(), NumberRange(1, 365)])
    retention_days = IntegerField(
        _l("Keep signed documents available for (days)"), validators=[InputRequired(), NumberRange(30, 36500)]
    )
    default_language = SelectField(_l("Default language"), choices=[("sv", "Svenska"), ("en", "English")])
    time_zone = SelectField(_l("Time zone"), choices=lambda: [(name, name.replace("_", " ")) for name in zone_names()],
                            validate_choice=False, validators=[Optional(), _known_zone],
                            description=_l("Times in the office, on signers' pages and in emails are shown in this "
                                           "zone; the evidence keeps UTC."))
    # What an uploaded PDF may hold (core.pdfcheck); left empty, the safe default.
    max_pages = IntegerField(_l("Most pages in a PDF"), validators=[Optional(), NumberRange(1, 10000)])
    max_unpacked_mb = IntegerField(_l("Most data a PDF may unpack to (MB)"),
                                   validators=[Optional(), NumberRange(16, 2048)])
    max_nesting = IntegerField(_l("Deepest nesting in a PDF (levels)"), validators=[Optional(), NumberRange(8, 100)])
    max_objects = IntegerField(_l("Most objects in a PDF"), validators=[Optional(), NumberRange(1000, 1_000_000)])


class PluginToggleForm(FlaskForm):
    """Only the CSRF token: the plugin name is in the URL, the state in the button pressed."""
