"""Tenant admin forms."""

from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from core.i18n import _l


class TenantSettingsForm(FlaskForm):
    name = StringField(_l("Organisation name"), validators=[InputRequired(), Length(max=200)])
    sender_name = StringField(_l("Sender name in emails"), validators=[Optional(), Length(max=200)])
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


class PluginToggleForm(FlaskForm):
    """Only the CSRF token: the plugin name is in the URL, the state in the button pressed."""
