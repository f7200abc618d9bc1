"""Flask-WTF forms for officer accounts (CSRF on every one)."""

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import Email, EqualTo, InputRequired, Length

from core.i18n import _l
from core.text import SingleLine


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[InputRequired(), Email()])
    password = PasswordField(_l("Password"), validators=[InputRequired()])


class ForgotForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[InputRequired(), Email()])


class NewPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"),
        validators=[InputRequired(), Length(min=10, message=_l("Use at least 10 characters."))],
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[InputRequired(), EqualTo("password", message=_l("The passwords do not match."))],
    )


class AccountForm(FlaskForm):
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=200), SingleLine()])
    language = SelectField(_l("Language of the web office and your emails"),
                           choices=[("sv", "Svenska"), ("en", "English")])


class EndOtherSessionsForm(FlaskForm):
    """Only the CSRF token: "log out everywhere else"."""


class ChangePasswordForm(NewPasswordForm):
    current = PasswordField(_l("Current password"), validators=[InputRequired()])


class InviteForm(FlaskForm):
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=200), SingleLine()])
    email = EmailField(_l("Email"), validators=[InputRequired(), Email()])
    role = SelectField(_l("Role"), choices=[("officer", _l("Case officer")), ("admin", _l("Administrator"))])
    language = SelectField(_l("Language"), choices=[("sv", "Svenska"), ("en", "English")])
