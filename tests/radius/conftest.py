from tests.radius.freeradius_support import radius_server  # noqa: F401 - the session's FreeRADIUS
