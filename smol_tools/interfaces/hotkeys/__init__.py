"""`smol hotkeys`: global shortcuts on the text selected in any application.

- `actions.py`   the shortcut table (defaults, config, validation, `--list`)
- `keys.py`      the keyboard: shortcut matching, waiting for released keys, sending copy/paste
- `clipboard.py` X11 selections through xclip (snapshot every format, restore), pyperclip
- `owner.py`     the helper process that holds a restored clipboard in every format
- `selection.py` one job's capture of the selection and delivery of the result
- `notify.py`    desktop notifications (plus a line on stderr)
- `daemon.py`    the daemon: environment checks, engine, listener, worker, idle release

Importing this package is cheap: pynput and python-xlib load where they are used.
"""
