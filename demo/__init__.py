"""The demo city of the local run: the Hanoi federation's units and people (``city``), initiatives in
every state (``initiatives``), the campaign Kế hoạch 18/KH-LĐLĐ (``campaign``) and the demo users
(``users``). Loaded through the services' HTTP APIs like any client; not part of any service."""
