"""Collecting what is owed after the boleto is out: reminders (the *régua de cobrança*) and the
overdue list (*inadimplentes*). Reads billing; billing never imports this app."""
