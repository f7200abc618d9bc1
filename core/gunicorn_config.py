"""gunicorn settings for Sigill's web processes: `gunicorn -c python:core.gunicorn_config -w 4 -b ... core.wsgi:app`
(options given on the command line win).

* Threaded workers (`gthread`, 8 threads): a request that waits on PostgreSQL, Redis or a slow
  client holds one thread, not the whole process.
* `reuse_port`: every worker listens on its own socket (SO_REUSEPORT) and the kernel spreads new
  connections over them. With the one shared socket a threaded worker accepts every connection it
  is woken for, so a burst went to whichever worker woke first: when 50 signers opened their links
  at the same instant one worker took 40-45 of them and served them on one core (one GIL) while
  the other sat idle (bench_scale_out: burst p95 ~600-800 ms, split 45 / 5; with reuse_port 26 /
  24). The spread is by hash, not by load, so over many requests it evens out rather than steers.
* The access log masks link tokens and credentials (`core.gunicorn_logging.MaskingLogger`).
"""

worker_class = "gthread"
threads = 8
reuse_port = True
logger_class = "core.gunicorn_logging.MaskingLogger"
