"""gunicorn entry point: `gunicorn core.wsgi:app`."""

from core.app import create_app
from core.jobs import start_embedded_scheduler

app = create_app()
if not app.config.get("REDIS_URL") and app.config["SCHEDULER_ENABLED"]:
    start_embedded_scheduler(app)
