"""The pledges service: campaigns with measurable indicators and cascading targets, collective pledges,
individual registrations, progress reports and the reminders around their deadlines."""

SERVICE = "pledges"
