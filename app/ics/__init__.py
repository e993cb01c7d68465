"""Calendar files (RFC 5545): a session's `.ics` and members' personal feeds.

links.py   the absolute URLs: of a file, of a feed, of a live session's join page
render.py  sessions -> iCalendar bytes (icalendar), nothing else
routes.py  the GET routes: a translator reading through app.resolvers.calendar,
           with ETag / If-None-Match and Cache-Control
"""
