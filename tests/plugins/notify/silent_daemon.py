#!/usr/bin/python3
"""Owns org.freedesktop.Notifications on the session bus and never answers: the
libnotify call blocks until its 25 s D-Bus timeout. Prints "owned" once it holds the name."""
import time

import dbus

bus = dbus.SessionBus()
bus.request_name("org.freedesktop.Notifications", dbus.bus.NAME_FLAG_DO_NOT_QUEUE)
print("owned", flush=True)
while True:
    time.sleep(3600)  # no main loop: incoming calls are never dispatched
