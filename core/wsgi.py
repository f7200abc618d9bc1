"""gunicorn entry point: `gunicorn core.wsgi:app`."""

import gc

from core.app import create_app
from core.jobs import start_embedded_scheduler
from core.warmup import warm_web

app = create_app()
if not app.config.get("REDIS_URL") and app.config["SCHEDULER_ENABLED"]:
    start_embedded_scheduler(app)
# Templates, catalogues and the link lookup built now, not by the first signers' requests.
warm_web(app)

# Everything loaded so far (modules, the app, SQLAlchemy's mappers, compiled templates) lives as
# long as the process. Freezing it keeps the garbage collector from walking those ~200,000
# objects again and again: a full collection of them stalled a request for 100-200 ms.
gc.collect()
gc.freeze()
