"""Brazilian formats for the staff site, over Django's own pt_BR ones.

Dates as billing systems print them (10/12/2026, 10/12/2026 14:30) instead of Django's long form
("10 de dezembro de 2026 às 14:30"): lists stay narrow and every date reads the same everywhere.
Numbers keep Django's pt_BR separators (79,90; 0,033).
"""

DATE_FORMAT = "d/m/Y"
DATETIME_FORMAT = "d/m/Y H:i"
