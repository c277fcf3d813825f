"""Seeds a running tutorbook service for scripts/load, through its API only.

Teachers and students are host-token users (HS256 over the service's
TUTORBOOK_HOST_JWT_SECRET): the first request creates each one, then it
accepts the required documents. Each teacher opens group slots of four seats,
hour by hour on consecutive days (Asia/Seoul, the default zone), starting
tomorrow. Writes into OUT:

  students.txt  one bearer token a line
  slots.txt     one slot id a line
  date.txt      the first day with slots (YYYY-MM-DD, Asia/Seoul): browse's `date`

Only the standard library: it runs before any venv exists.

  python3 seed.py BASE_URL HOST_SECRET SLOTS STUDENTS OUT
"""

import base64
import datetime
import hashlib
import hmac
import http.client
import json
import sys
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

TEACHERS = 20
CAPACITY = 4
# Slots a teacher opens per day, one an hour from 08:00; 45-minute lessons
# leave the default (zero) buffers room. 10,000 slots take 42 days: inside
# browse's 90-day horizon and the default maximum advance.
PER_DAY = 12
FIRST_HOUR = 8
LESSON_MINUTES = 45
SEOUL = datetime.timezone(datetime.timedelta(hours=9))
DOCUMENTS = ("terms", "privacy", "cross_border")
WORKERS = 8

local = threading.local()


def b64(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def host_token(secret, sub, role):
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    # An address, so that the outbox worker renders and "sends" (the log
    # mailer) the email of every booking, as it would for real users.
    claims = {"sub": sub, "role": role, "email": f"{sub}@load.example", "exp": int(time.time()) + 86400}
    body = b64(json.dumps(claims).encode())
    sig = b64(hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest())
    return f"{head}.{body}.{sig}"


def call(base, method, path, token, body=None):
    """One request on this thread's keep-alive connection; the parsed answer."""
    if getattr(local, "conn", None) is None:
        url = urllib.parse.urlsplit(base)
        local.conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    try:
        local.conn.request(method, "/api/v1" + path, body=data, headers=headers)
        answer = local.conn.getresponse()
        raw = answer.read()
    except (http.client.HTTPException, OSError):
        local.conn.close()
        local.conn = None
        raise
    if answer.status >= 300:
        raise RuntimeError(f"{method} {path}: {answer.status} {raw[:300]!r}")
    return json.loads(raw) if raw else None


def consent(base, token):
    for doc in DOCUMENTS:
        call(base, "PUT", f"/me/consents/{doc}", token, {"version": "v1.0", "granted": True})


def open_slots(base, token, first_day, indexes):
    ids = []
    for i in indexes:
        day, hour = divmod(i, PER_DAY)
        start = datetime.datetime.combine(
            first_day + datetime.timedelta(days=day), datetime.time(FIRST_HOUR + hour), SEOUL
        )
        end = start + datetime.timedelta(minutes=LESSON_MINUTES)
        slot = call(
            base,
            "POST",
            "/slots",
            token,
            {"start": start.isoformat(), "end": end.isoformat(), "capacity": CAPACITY},
        )
        ids.append(slot["id"])
    return ids


def main():
    base, secret, slots, students, out = sys.argv[1:]
    slots, students = int(slots), int(students)
    per_teacher = -(-slots // TEACHERS)
    if per_teacher > PER_DAY * 85:
        sys.exit(f"seed: {slots} slots do not fit in 85 days of {TEACHERS} teachers")
    first_day = datetime.datetime.now(SEOUL).date() + datetime.timedelta(days=1)
    started = time.monotonic()

    teachers = [host_token(secret, f"load-teacher-{t}", "teacher") for t in range(TEACHERS)]
    pupils = [host_token(secret, f"load-student-{s}", "student") for s in range(students)]
    with ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(lambda tok: consent(base, tok), teachers + pupils))
        # The slots are shared out evenly; each teacher fills day after day
        # from the first, so the first day is full whatever SLOTS is.
        shares = [
            (teachers[t], range(per_teacher)[: max(0, (slots - t + TEACHERS - 1) // TEACHERS)])
            for t in range(TEACHERS)
        ]
        opened = list(pool.map(lambda share: open_slots(base, share[0], first_day, share[1]), shares))

    with open(f"{out}/students.txt", "w") as f:
        f.write("\n".join(pupils) + "\n")
    with open(f"{out}/slots.txt", "w") as f:
        f.write("\n".join(i for ids in opened for i in ids) + "\n")
    with open(f"{out}/date.txt", "w") as f:
        f.write(first_day.isoformat() + "\n")
    total = sum(len(ids) for ids in opened)
    print(
        f"seed: {TEACHERS} teachers, {students} students, {total} slots of {CAPACITY} seats "
        f"from {first_day} (Asia/Seoul) in {time.monotonic() - started:.1f} s"
    )


if __name__ == "__main__":
    main()
