"""Reads an iCalendar file on stdin with Python's `icalendar` (a parser independent of the
one that wrote it) and prints its events as JSON, with times converted to the zone named
on the command line."""

import json
import sys
from zoneinfo import ZoneInfo

import icalendar

zone = ZoneInfo(sys.argv[1])
cal = icalendar.Calendar.from_ical(sys.stdin.read())
out = []
for ev in cal.walk("VEVENT"):
    start = ev.decoded("DTSTART")
    end = ev.decoded("DTEND")
    out.append(
        {
            "uid": str(ev.get("UID")),
            "summary": str(ev.get("SUMMARY")),
            "status": str(ev.get("STATUS", "")),
            "sequence": int(ev.get("SEQUENCE", 0)),
            "start_local": start.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
            "end_local": end.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
            "utc_offset_hours": start.astimezone(zone).utcoffset().total_seconds() / 3600,
            "description": str(ev.get("DESCRIPTION", "")),
            "location": str(ev.get("LOCATION", "")),
            # Properties a title must never be able to add.
            "injected": sorted(
                k for k in ev.keys() if k in ("ATTENDEE", "ORGANIZER", "ATTACH", "RRULE", "VALARM")
            ),
        }
    )
out.sort(key=lambda e: e["start_local"])
print(json.dumps({"name": str(cal.get("X-WR-CALNAME", "")), "events": out}))
