"""The sender page (``planwh serve``): agencies download their form, upload their report, read at
once what is wrong, and see what they still owe. See ``planwh.web.app``."""
