"""The worker as it was before issue 19, for the "before" row of `bench_scale_out`: RQ's default
Worker, which forks a fresh work-horse for every job from a parent that built the app but never
sealed (so every horse loads the seal, pyHanko and fonts again and opens its own connections)."""

from rq import Worker

from core import jobs
from core.worker import QUEUE_ORDER, use_app, worker_app

if __name__ == "__main__":
    app = worker_app()
    use_app(app)
    with app.app_context():
        connection = jobs.redis_connection()
        Worker([jobs.rq_queue(name, app, connection) for name in QUEUE_ORDER], connection=connection).work()
