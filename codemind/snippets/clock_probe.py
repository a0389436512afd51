# Prepended by groundtruth.py to a program whose determinism is probed: the job's TZ takes
# effect in this already-started interpreter, so datetime.now()/date.today() see another clock.
import time as _codemind_time; _codemind_time.tzset(); del _codemind_time
