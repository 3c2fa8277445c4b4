"""Access: DIP export now; search and closure periods (Schutzfristen) with the web/API issue."""
