#!/bin/sh
# dunst script rule: appends what the notification daemon received, one JSON-ish record.
{
  printf 'app=%s\n' "$DUNST_APP_NAME"
  printf 'summary=%s\n' "$DUNST_SUMMARY"
  printf 'body=%s\n' "$DUNST_BODY"
  printf 'urgency=%s\n' "$DUNST_URGENCY"
  printf '%s\n' '--'
} >> "$GUARDIAN_NOTIFY_RECORD"
