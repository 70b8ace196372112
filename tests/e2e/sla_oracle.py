"""The SLA clocks' rules (services/sla/clock.h), written independently of
the gateway: business time from a tenant document's calendar with Python's
zoneinfo, and an oracle that replays a ticket's events under the rules.
Used by the SLA tests and by the reports' recomputation."""
import datetime as dt
from zoneinfo import ZoneInfo

UTC = dt.timezone.utc
CLOCKS = ("response", "resolution")
SIDES = ("provider", "internal_it", "vendor", "customer")
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


# ---- time ---------------------------------------------------------------

def epoch(text):
    return int(dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp())


def utc_text(t):
    return None if t is None else \
        dt.datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class WallClock:
    """24x7: every second is a business second."""

    def business(self, a, b):
        return max(0, b - a)

    def add(self, t, seconds):
        return t + seconds


class Calendar:
    """The working windows of a tenant document, in its local time,
    holidays replacing the week's hours on their dates."""

    def __init__(self, doc):
        self.tz = ZoneInfo(doc["timezone"])
        self.week = doc["calendar"]
        self.holidays = {h["date"]: h.get("hours", []) for h in doc.get("holidays", [])}

    def windows_on(self, day):
        """[(start, end)] in Unix seconds for one local date."""
        spec = self.holidays.get(day.isoformat(), self.week.get(DAYS[day.weekday()], []))
        out = []
        for w in spec:
            out.append((self._instant(day, w["start"]), self._instant(day, w["end"])))
        return out

    def _instant(self, day, hhmm):
        h, m = map(int, hhmm.split(":"))
        if h == 24:
            day, h = day + dt.timedelta(days=1), 0
        return int(dt.datetime(day.year, day.month, day.day, h, m, tzinfo=self.tz).timestamp())

    def local_date(self, t):
        return dt.datetime.fromtimestamp(t, self.tz).date()

    def intervals(self, a, b):
        """The working stretches inside [a, b), in order; windows that
        touch (24:00 and the next day's 00:00) make one stretch."""
        out = []
        day = self.local_date(a) - dt.timedelta(days=1)
        while day <= self.local_date(b) + dt.timedelta(days=1):
            for s, e in self.windows_on(day):
                lo, hi = max(s, a), min(e, b)
                if lo < hi and out and out[-1][1] == lo:
                    out[-1] = (out[-1][0], hi)
                elif lo < hi:
                    out.append((lo, hi))
            day += dt.timedelta(days=1)
        return out

    def business(self, a, b):
        return sum(e - s for s, e in self.intervals(a, b))

    def add(self, t, seconds):
        """The instant `seconds` business seconds after t (the end of a
        window when that is where they run out)."""
        day = self.local_date(t) - dt.timedelta(days=1)
        for _ in range(4000):
            for s, e in self.windows_on(day):
                lo = max(s, t)
                if lo >= e:
                    continue
                if seconds <= e - lo:
                    return lo + seconds
                seconds -= e - lo
            day += dt.timedelta(days=1)
        raise AssertionError("no working time in ten years")

    def in_window(self, t):
        """Whether t is inside a window of its local date, or its end."""
        day = self.local_date(t)
        return any(s < t <= e for d in (day - dt.timedelta(days=1), day)
                   for s, e in self.windows_on(d))


# ---- the oracle ----------------------------------------------------------

def is_open(status):
    return status not in ("resolved", "closed")


def new_value(data, field, kind):
    if kind == "created":
        return data.get(field)
    change = data.get(field)
    return change.get("to") if isinstance(change, dict) else None


class Oracle:
    """The rules of clock.h, replayed over events up to as_of."""

    def __init__(self, events, as_of, targets, pauses, calendar):
        assert events and events[0][1] == "created"
        # the sweep's announcements change no clock; one written after the
        # instant looked at is no part of it
        events = [e for e in events if e[0] <= as_of or not e[1].startswith("sla_")]
        self.targets, self.pauses, self.cal = targets, pauses, calendar
        self.status, self.side, self.priority = "new", "provider", None
        self.elapsed = {c: 0 for c in CLOCKS}
        self.stopped = {c: None for c in CLOCKS}
        self.held = {s: 0 for s in SIDES}
        self.tier = None
        self.held_tier = {t: 0 for t in ("none", "L1", "L2", "L3")}
        self.runs = {c: [] for c in CLOCKS}        # (from, elapsed before, after)
        prev = events[0][0]
        for i, (at, kind, data, role) in enumerate(events):
            at = max(at, prev)
            if i > 0:
                self._account(prev, at)
            self._apply(at, kind, data, role)
            prev = at
        self.as_of = max(as_of, prev)
        self._account(prev, self.as_of)

    def paused(self):
        return is_open(self.status) and self.status in self.pauses

    def holder(self):
        if not is_open(self.status):
            return None
        return {"pending_customer": "customer",
                "pending_vendor": "vendor"}.get(self.status, self.side)

    def _account(self, a, b):
        if b <= a or not is_open(self.status):
            return
        seconds = self.cal.business(a, b)
        self.held[self.holder()] += seconds
        if self.holder() == "provider":
            self.held_tier[self.tier or "none"] += seconds
        for c in CLOCKS:
            if not self.paused() and self.stopped[c] is None and seconds:
                self.runs[c].append((a, self.elapsed[c], self.elapsed[c] + seconds))
                self.elapsed[c] += seconds

    def _apply(self, at, kind, data, role):
        status = new_value(data, "status", kind)
        if status is not None:
            if not is_open(status):
                for c in CLOCKS:
                    if self.stopped[c] is None:
                        self.stopped[c] = at
            elif not is_open(self.status):
                self.stopped["resolution"] = None          # reopened
            self.status = status
        self.side = new_value(data, "side", kind) or self.side
        self.priority = new_value(data, "priority", kind) or self.priority
        if kind == "created":
            self.tier = data.get("tier")
        elif isinstance(data.get("tier"), dict):
            self.tier = data["tier"].get("to")
        if (kind == "comment" and data.get("visibility") == "public"
                and role not in ("requester", "integration")
                and self.stopped["response"] is None):
            self.stopped["response"] = at

    def running(self, c):
        return is_open(self.status) and not self.paused() and self.stopped[c] is None

    def target(self, c):
        return self.targets[self.priority][c]

    def due(self, c):
        target, elapsed = self.target(c), self.elapsed[c]
        if elapsed >= target:
            for start, before, after in self.runs[c]:
                if before < target <= after:
                    return self.cal.add(start, target - before)
            raise AssertionError("breached without a run reaching the target")
        if self.stopped[c] is not None:
            return self.cal.add(self.stopped[c], target - elapsed)
        if self.running(c):
            return self.cal.add(self.as_of, target - elapsed)
        return None

    def state(self, c):
        if self.elapsed[c] >= self.target(c):
            return "breached"
        if self.stopped[c] is not None:
            return "met"
        return "paused" if self.paused() else "running"

    def view(self):
        """The "sla" member the API should show as of as_of."""
        out = {}
        for c in CLOCKS:
            target, elapsed = self.target(c), self.elapsed[c]
            out[c] = {
                "state": self.state(c),
                "due": utc_text(self.due(c)),
                "target_seconds": target,
                "elapsed_seconds": elapsed,
                "remaining_seconds": max(0, target - elapsed),
                "percent_used": (elapsed * 1000 // target) / 10,
                "stopped_at": utc_text(self.stopped[c]),
            }
        out["holder"] = self.holder()
        out["held_seconds"] = dict(self.held)
        out["as_of"] = utc_text(self.as_of)
        return out

    def stored(self):
        """The snapshot as tickets.sla keeps it (without its config)."""
        out = {"as_of": self.as_of, "holder": self.holder(), "held": dict(self.held),
               "held_provider_tier": dict(self.held_tier)}
        for c in CLOCKS:
            out[c] = {"target": self.target(c), "elapsed": self.elapsed[c],
                      "due": self.due(c), "stopped_at": self.stopped[c],
                      "running": self.running(c),
                      "paused": self.paused() and self.stopped[c] is None}
        return out

    def breach_at(self):
        dues = [self.due(c) for c in CLOCKS if self.stopped[c] is None]
        dues = [d for d in dues if d is not None]
        return min(dues) if dues else None
