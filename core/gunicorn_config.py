"""gunicorn settings for Sigill's web processes: `gunicorn -c python:core.gunicorn_config -w 4 -b ... core.wsgi:app`
(options given on the command line win).

* Threaded workers (`gthread`, 8 threads): a request that waits on PostgreSQL, Redis or a slow
  client holds one thread, not the whole process.
* The access log masks link tokens and credentials (`core.gunicorn_logging.MaskingLogger`).
* One listening socket shared by the workers, gunicorn's default. When 50 signers open their links
  at the same instant, one threaded worker accepts most of them (45 / 5 and 40 / 10 in
  bench_scale_out) and serves them on one core. `reuse_port` (a socket per worker, the kernel
  spreading connections by hash) split that burst 25 / 25, but in steady load it sends a
  connection to a worker whose threads are all busy while the other idles: in interleaved
  "reading" runs the wait before the app went from 119-665 ms to 841-1,128 ms (p95) and the page
  p95 up with it, so it is not set. `worker_connections = 16` balanced the burst too (24 / 26) but
  left new connections in the kernel's queue behind kept-alive ones (page p95 4.1 s vs POST 2.0 s
  back to back). Both stay options to measure on a dedicated machine (docs/architecture.md).
"""

worker_class = "gthread"
threads = 8
logger_class = "core.gunicorn_logging.MaskingLogger"
