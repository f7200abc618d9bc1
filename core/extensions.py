"""Flask extensions as init_app singletons."""

from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData

# Stable constraint names so Alembic migrations work the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING))
migrate = Migrate()


@migrate.configure
def _plugin_migrations(config):
    """The core's migrations and every installed plugin's branch (`register_migrations`)."""
    from core.plugins import version_locations

    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", version_locations(config.get_main_option("script_location")))
    return config

login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
